// The page's only access to the service: GraphQL at /graphql and the CSV route, both with the
// X-API-Key of the person at the keyboard. Nothing is cached: every figure is asked for afresh.

export type ApiErrorKind = "unauthenticated" | "input" | "unavailable";

/** A failure the page explains to its user; `kind` picks the explanation. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly kind: ApiErrorKind,
  ) {
    super(message);
  }
}

interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

const UNAUTHENTICATED_MESSAGE = "This API key was not accepted. Check it (or ask for a new one) and try again.";

function failureOf(status: number, codes: (string | undefined)[], message?: string): ApiError {
  if (status === 401 || codes.includes("UNAUTHENTICATED"))
    return new ApiError(UNAUTHENTICATED_MESSAGE, "unauthenticated");
  if (status === 400 || codes.includes("BAD_USER_INPUT") || codes.includes("QUERY_TOO_COMPLEX")) {
    return new ApiError(message ?? "The service refused these filters.", "input");
  }
  if (status === 429) return new ApiError("Too many requests: wait a minute and try again.", "unavailable");
  return new ApiError("The service did not answer as expected. Try again in a moment.", "unavailable");
}

export async function graphql<T>(apiKey: string, query: string, variables: Record<string, unknown>): Promise<T> {
  let response: Response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": apiKey },
      body: JSON.stringify({ query, variables }),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError("The service could not be reached. Check your connection and try again.", "unavailable");
  }
  let answer: GraphQLAnswer<T>;
  try {
    answer = (await response.json()) as GraphQLAnswer<T>;
  } catch {
    throw failureOf(response.status, []);
  }
  if (answer.errors?.length || !answer.data) {
    const errors = answer.errors ?? [];
    throw failureOf(
      response.status,
      errors.map((error) => error.extensions?.code),
      errors[0]?.message,
    );
  }
  return answer.data;
}

/** The file name a Content-Disposition header gives (RFC 6266: filename* first). */
function fileNameOf(disposition: string | null, fallback: string): string {
  const encoded = disposition?.match(/filename\*=UTF-8''([^;]+)/i)?.[1];
  if (encoded) {
    try {
      return decodeURIComponent(encoded);
    } catch {
      // A malformed encoding: fall through to the plain name.
    }
  }
  return disposition?.match(/filename="([^"]+)"/i)?.[1] ?? fallback;
}

/**
 * Downloads the CSV of `ruleId` with `filters` and hands it to the browser as a file. The route
 * wants the key in a header, so this is a fetch and a blob, not a plain link.
 */
export async function downloadCsv(apiKey: string, ruleId: string, filters: Record<string, string>): Promise<string> {
  const query = new URLSearchParams(filters).toString();
  const url = `/api/v1/rules/${encodeURIComponent(ruleId)}/outcome-stats.csv${query ? `?${query}` : ""}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { "x-api-key": apiKey }, cache: "no-store", credentials: "omit" });
  } catch {
    throw new ApiError("The service could not be reached. Check your connection and try again.", "unavailable");
  }
  if (!response.ok) {
    let detail: string | undefined;
    try {
      detail = ((await response.json()) as { detail?: string }).detail;
    } catch {
      // Not JSON: the status says enough.
    }
    throw failureOf(response.status, [], detail);
  }
  const fileName = fileNameOf(response.headers.get("content-disposition"), "outcome-stats.csv");
  const objectUrl = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = objectUrl;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // After the click has started the download.
  setTimeout(() => URL.revokeObjectURL(objectUrl), 10_000);
  return fileName;
}
