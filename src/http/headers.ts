// Reading request headers the way every route and the GraphQL context do.
import type { IncomingHttpHeaders } from "node:http";

/** The first value of a header that may arrive repeated. */
export function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  return singleHeader(headers[name]);
}
