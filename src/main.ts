// Process entry point: start the subgraph, and shut it down cleanly on SIGTERM / SIGINT.
import { ConfigError, loadConfig } from "./config";
import { DatabaseUnavailable } from "./db/data-source";
import { startServer } from "./server";

async function main(): Promise<void> {
  const config = loadConfig();
  const server = await startServer(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, "shutting down: draining in-flight requests and queued events");
    const timer = setTimeout(() => {
      server.app.log.error("shutdown timed out; exiting with events possibly unwritten");
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    server.close().then(
      () => process.exit(0),
      (error) => {
        server.app.log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error) => {
  if (error instanceof ConfigError || error instanceof DatabaseUnavailable) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`Failed to start: ${(error as Error).message}\n`);
  }
  process.exit(1);
});
