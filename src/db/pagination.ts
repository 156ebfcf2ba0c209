// Keyset pagination shared by every list: page sizes and opaque cursors (base64url JSON tuples).
import { InvalidInput } from "../errors";

/** The rows to fetch for a page: `first` (default when absent) capped at `max`; negative is an error. */
export function pageLimit(first: number | null | undefined, defaultSize: number, max: number): number {
  if (first != null && first < 0) {
    throw new InvalidInput([{ path: ["first"], type: "greater_than_equal", message: "first must be 0 or more" }]);
  }
  return Math.min(first ?? defaultSize, max);
}

export function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString("base64url");
}

/** The cursor's parts when `accept` recognises them; InvalidInput on `after` otherwise. */
export function decodeCursor<T>(cursor: string, accept: (parts: unknown[]) => T | undefined): T {
  try {
    const parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    const accepted = Array.isArray(parts) ? accept(parts) : undefined;
    if (accepted !== undefined) return accepted;
  } catch {
    // not base64url JSON: the error below
  }
  throw new InvalidInput([
    { path: ["after"], type: "value_error", message: "after is not a cursor returned by this API" },
  ]);
}
