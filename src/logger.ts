// The pino logger options of the service. Credentials never reach the logs: the request
// serializer logs no headers, and a JWT passed as the `jwt` query parameter is masked.
import type { FastifyRequest } from "fastify";
import type { LoggerOptions } from "pino";

/** "/x?jwt=eyJ...&a=1" -> "/x?jwt=[redacted]&a=1" */
export function redactUrl(url: string): string {
  return url.replace(/([?&]jwt=)[^&#]*/gi, "$1[redacted]");
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
      }),
    },
  };
}
