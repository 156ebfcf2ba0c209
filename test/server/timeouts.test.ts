// Slow clients are cut off: a request whose headers or body arrive too slowly is answered 408
// and disconnected within about the timeout, over a real socket; normal and keep-alive
// requests are not affected.
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config";
import { startTestApp, type TestApp } from "../helpers/app";

const REQUEST_TIMEOUT_MS = 2_000;
const HEADERS_TIMEOUT_MS = 1_000;
// Node checks the timeouts every tenth of the header timeout here (100 ms); the rest is slack
// for a loaded 2-core machine.
const LATE_BY_AT_MOST_MS = 100 + 600;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
  });
});
afterAll(() => app?.stop());

interface Connection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Settles with the time since the connection opened when the server closes it. */
  closed: Promise<number>;
}

async function open(): Promise<Connection> {
  const { hostname, port } = new URL(app.url);
  const socket = connect(Number(port), hostname);
  await once(socket, "connect");
  const opened = performance.now();
  let received = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    received += chunk;
  });
  // Writes after the server hung up fail; that is the point of these tests.
  socket.on("error", () => {});
  const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(performance.now() - opened)));
  return { socket, received: () => received, closed };
}

/** Sends `head` at once, then `drip` every `everyMs` until the server closes the connection. */
async function trickle(head: string, drip: string, everyMs: number): Promise<{ elapsed: number; received: string }> {
  const connection = await open();
  connection.socket.write(head);
  const dripping = setInterval(() => {
    if (connection.socket.writable) connection.socket.write(drip);
  }, everyMs);
  // Never hang the suite: give up well after the timeouts.
  const giveUp = setTimeout(() => connection.socket.destroy(), 4 * REQUEST_TIMEOUT_MS);
  const elapsed = await connection.closed;
  clearInterval(dripping);
  clearTimeout(giveUp);
  return { elapsed, received: connection.received() };
}

/** Waits until the server has sent `text` (`times` times). */
async function until(connection: Connection, text: string, timeoutMs = 5_000, times = 1): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (connection.received().split(text).length - 1 < times) {
    if (Date.now() > deadline)
      throw new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(connection.received())}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const host = () => new URL(app.url).host;

describe("request timeouts", () => {
  it("answer 408 and close a connection whose headers trickle in, after HEADERS_TIMEOUT_MS", async () => {
    const { elapsed, received } = await trickle(`GET /health HTTP/1.1\r\nHost: ${host()}\r\n`, "X-Slow: 1\r\n", 100);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(elapsed).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(HEADERS_TIMEOUT_MS + LATE_BY_AT_MOST_MS);
  });

  it("answer 408 and close a connection whose body trickles in, after REQUEST_TIMEOUT_MS", async () => {
    const head = `POST /graphql HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    const { elapsed, received } = await trickle(head, " ", 100);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(elapsed).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(REQUEST_TIMEOUT_MS + LATE_BY_AT_MOST_MS);
  });

  it("let a slow request through that arrives in time", async () => {
    const body = JSON.stringify({ query: "{ __typename }" });
    const connection = await open();
    connection.socket.write(
      `POST /graphql HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    // The body in ten pieces over about a second: half the request timeout.
    const pieces = body.match(/.{1,3}/g) as string[];
    for (const piece of pieces) {
      await new Promise((resolve) => setTimeout(resolve, 1_000 / pieces.length));
      connection.socket.write(piece);
    }
    await until(connection, '"__typename":"Query"');
    expect(connection.received()).toMatch(/^HTTP\/1\.1 200 /);
    connection.socket.destroy();
  });

  it("leave idle keep-alive connections open past the request timeout", async () => {
    const connection = await open();
    const request = `GET /health HTTP/1.1\r\nHost: ${host()}\r\n\r\n`;
    connection.socket.write(request);
    await until(connection, '{"status":"ok"}');
    // Idle for longer than a whole request may take, checks included.
    await new Promise((resolve) => setTimeout(resolve, REQUEST_TIMEOUT_MS + 500));
    expect(connection.socket.destroyed).toBe(false);
    connection.socket.write(request);
    await until(connection, '{"status":"ok"}', 5_000, 2);
    expect(connection.received().match(/HTTP\/1\.1 200 OK\r\n/g)).toHaveLength(2);
    connection.socket.destroy();
  });
});

describe("timeout configuration", () => {
  it("defaults to 30 s for the request and 10 s for its headers", () => {
    const config = loadConfig({});
    expect([config.REQUEST_TIMEOUT_MS, config.HEADERS_TIMEOUT_MS]).toEqual([30_000, 10_000]);
  });

  it("refuses a header timeout longer than the request timeout, in one line naming it", () => {
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: "5000", HEADERS_TIMEOUT_MS: "6000" })).toThrow(ConfigError);
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: "5000", HEADERS_TIMEOUT_MS: "6000" })).toThrow(
      /^Invalid configuration: HEADERS_TIMEOUT_MS: must be at most REQUEST_TIMEOUT_MS$/,
    );
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: "soon" })).toThrow(/^Invalid configuration: REQUEST_TIMEOUT_MS: /);
  });
});
