// What every process of the bench started by bench/run.js shares: tell the parent where it
// listens, answer its commands over IPC, and exit when the parent goes away.
//   parent -> child: { id, command, args }     child -> parent: { id, result } | { id, error }
"use strict";

/** Sends { ready: { url, pid } }, then runs handlers[command](args) for each message. */
function serveParent(url, handlers = {}, onExit = async () => {}) {
  process.on("message", async ({ id, command, args }) => {
    try {
      const handler = handlers[command];
      if (!handler) throw new Error(`unknown command ${command}`);
      process.send({ id, result: await handler(args) });
    } catch (error) {
      process.send({ id, error: error.stack ?? String(error) });
    }
  });
  process.on("disconnect", () => {
    onExit().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  process.send({ ready: { url, pid: process.pid } });
}

module.exports = { serveParent };
