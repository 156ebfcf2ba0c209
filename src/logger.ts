// The process-wide pino logger options; Fastify and the admin command line share them.
import pino, { type LoggerOptions } from "pino";

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    // Never let credentials reach the logs.
    redact: ["req.headers['x-api-key']", "req.headers.authorization", "req.headers.cookie"],
  };
}

/** A logger writing to stderr, for command-line tools whose stdout carries their result. */
export function stderrLogger(level = "info") {
  return pino(loggerOptions(level), pino.destination(2));
}
