// Idempotency keys (draft-ietf-httpapi-idempotency-key-header), for every ingest path. A request
// with a key is judged before its event is queued (a stored key replays or conflicts) and again at
// write time: the key row is inserted in the same transaction as the event, tagged with the batch,
// and a key some other request (another instance, a concurrent retry) stored first makes this one
// a replay. The database's unique key decides, never a process's memory; the in-process map of
// keys in flight only makes a concurrent duplicate on one instance wait instead of racing.
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { DataSource, EntityManager } from "typeorm";
import { boundedBy, type DatabaseDeadline } from "../db/deadline";
import { deleteWhereIn, dialectOf, insertRows, selectWhereIn, toDbTimestamp } from "../db/sql";
import { timeOrderedUuid } from "../db/time-ordered-id";
import { runInTransaction } from "../db/transaction";
import { DomainError, type FieldIssue, InvalidInput } from "../errors";

/** The key space of an organisation's API clients; public visitors' keys are scoped by tracking id. */
export const API_CLIENT_SCOPE = "";

/** A request's claim on a key: who, which key, and what the request was. */
export interface IdempotencyRequest {
  organisationId: string;
  scope: string;
  key: string;
  /** SHA-256 of the normalised request. */
  fingerprint: string;
}

/** The claim an event carries to the writer, with what its first answer will replay. */
export interface IdempotencyClaim extends IdempotencyRequest {
  /** JSON the replay of this request is rebuilt from. */
  response: string;
}

/** What the writer answers for an event that carried a claim another request had stored first. */
export interface Replayed {
  replayedResponse: string;
}

export class IdempotencyKeyReused extends DomainError {
  readonly httpStatus = 422;
  readonly graphqlCode = "BAD_USER_INPUT";
  constructor() {
    super("Idempotency-Key was already used with a different request");
  }

  /** GraphQL answers it as its other BAD_USER_INPUT errors, HTTP 400 (REST keeps the draft's 422). */
  override get extensions(): Record<string, unknown> {
    return { ...super.extensions, field: "idempotencyKey", http: { status: 400 } };
  }
}

export class IdempotencyKeyInFlight extends DomainError {
  readonly httpStatus = 409;
  readonly graphqlCode = "CONFLICT";
  readonly retryAfterSeconds = 1;
  constructor() {
    super("A request with this Idempotency-Key is still being processed: retry shortly");
  }
}

const VISIBLE_ASCII = /^[\x21-\x7e]{1,255}$/;
const EVENT_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** An Idempotency-Key as the header draft allows it: 1-255 visible ASCII characters; null when absent. */
export function parseIdempotencyKey(value: unknown, path: (string | number)[]): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string" && VISIBLE_ASCII.test(value)) return value;
  throw new InvalidInput([
    { path, type: "value_error", message: "Idempotency-Key must be 1 to 255 visible ASCII characters" },
  ]);
}

/**
 * The key of a public (browser) call: the Idempotency-Key header, else the body's `eventId`
 * (navigator.sendBeacon cannot set headers): 1-128 letters, digits, '-' or '_'.
 */
export function publicIdempotencyKey(header: string | undefined, eventId: unknown): string | null {
  if (header !== undefined) return parseIdempotencyKey(header, ["Idempotency-Key"]);
  if (eventId === undefined || eventId === null) return null;
  if (typeof eventId === "string" && EVENT_ID.test(eventId)) return eventId;
  const issue: FieldIssue = {
    path: ["eventId"],
    type: "value_error",
    message: "eventId must be 1 to 128 letters, digits, '-' or '_'",
  };
  throw new InvalidInput([issue]);
}

/** SHA-256 of a value's JSON with object keys sorted, so equal requests hash equal. */
export function fingerprintOf(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
}

export interface IdempotencySettings {
  /** How long a key is kept (IDEMPOTENCY_TTL_HOURS). */
  ttlMs: number;
  /** How long a concurrent request with the same key waits for the first (then 409). */
  waitMs: number;
  /** How often expired keys are swept. */
  sweepIntervalMs: number;
}

const SWEEP_CHUNK = 1_000;

/** One key's identity: organisation, scope and key, in a string. */
function flightKeyOf({
  organisationId,
  scope,
  key,
}: Pick<IdempotencyRequest, "organisationId" | "scope" | "key">): string {
  return `${organisationId}\u0000${scope}\u0000${key}`;
}

/** Requests (or claims) grouped by organisation and scope, which one query each can look up. */
function groupByScope<T extends Pick<IdempotencyRequest, "organisationId" | "scope">>(
  items: readonly T[],
): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = `${item.organisationId}\u0000${item.scope}`;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

export class IdempotencyService {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private sweeper?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: IdempotencySettings,
    private readonly logger?: Logger,
    private readonly now: () => number = Date.now,
    /** Bounds the lookup of stored keys (503 instead of a hang when the database does not answer). */
    private readonly deadline?: DatabaseDeadline,
  ) {}

  /**
   * Runs `store` for a request with a key, unless the key was stored already: then the same
   * request is answered by `replay` (nothing stored) and a different one is refused.
   */
  async run<T>(
    request: IdempotencyRequest,
    store: () => Promise<T>,
    replay: (response: string) => Promise<T>,
    /** Epoch ms past which the request stops waiting for the database (unset: a full budget from now). */
    deadline?: number,
  ): Promise<T> {
    const [result] = await this.runAll(
      [request],
      async () => [await store()],
      async ([response]) => [await replay(response)],
      deadline,
    );
    if (result instanceof IdempotencyKeyReused) throw result;
    return result;
  }

  /**
   * run() for the many requests of one batch, with one lookup for all their keys: `store` gets the
   * positions of the requests to store (those without a key, or whose key is not stored yet) and
   * answers them in that order; `replay` gets the stored answers of the repeated ones. A request
   * whose key was stored for a different request is answered IdempotencyKeyReused.
   */
  async runAll<T>(
    requests: readonly (IdempotencyRequest | undefined)[],
    store: (positions: number[]) => Promise<T[]>,
    replay: (responses: string[]) => Promise<T[]>,
    /** Epoch ms past which the request stops waiting for the database (unset: a full budget from now). */
    deadline?: number,
  ): Promise<(T | IdempotencyKeyReused)[]> {
    const keyed: { position: number; request: IdempotencyRequest; flightKey: string }[] = [];
    requests.forEach((request, position) => {
      if (request) keyed.push({ position, request, flightKey: flightKeyOf(request) });
    });
    const earlier = keyed.flatMap(({ flightKey }) => this.inFlight.get(flightKey) ?? []);
    if (earlier.length > 0) await this.waitFor(Promise.all(earlier));
    const lookup = () => this.lookupAll(keyed.map(({ request }) => request));
    const stored = keyed.length === 0 ? [] : await boundedBy(this.deadline, lookup, deadline);
    const results: (T | IdempotencyKeyReused)[] = new Array(requests.length);
    const toStore: number[] = [];
    const toReplay: number[] = [];
    const replayed: string[] = [];
    const storing: string[] = [];
    let next = 0;
    requests.forEach((request, position) => {
      const found = request && stored[next++];
      if (!request || !found) {
        toStore.push(position);
        if (request) storing.push(flightKeyOf(request));
      } else if (found.fingerprint !== request.fingerprint) {
        results[position] = new IdempotencyKeyReused();
      } else {
        toReplay.push(position);
        replayed.push(found.response);
      }
    });
    const running = toStore.length > 0 ? store(toStore) : Promise.resolve([]);
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    for (const flightKey of storing) this.inFlight.set(flightKey, settled);
    try {
      const [storedResults, replayedResults] = await Promise.all([
        running,
        toReplay.length > 0 ? replay(replayed) : [],
      ]);
      toStore.forEach((position, k) => {
        results[position] = storedResults[k];
      });
      toReplay.forEach((position, k) => {
        results[position] = replayedResults[k];
      });
      return results;
    } finally {
      for (const flightKey of storing) if (this.inFlight.get(flightKey) === settled) this.inFlight.delete(flightKey);
    }
  }

  private async waitFor(earlier: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new IdempotencyKeyInFlight()), this.settings.waitMs);
    });
    try {
      await Promise.race([earlier, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The stored (unexpired) key of each request, or null: one query per organisation and scope. */
  private async lookupAll(
    requests: readonly IdempotencyRequest[],
  ): Promise<({ fingerprint: string; response: string } | null)[]> {
    if (requests.length === 0) return [];
    const found = new Map<string, { fingerprint: string; response: string }>();
    const cutoff = this.cutoff();
    for (const [, group] of groupByScope(requests)) {
      const { organisationId, scope } = group[0];
      const rows = await selectWhereIn<{ idempotency_key: string; fingerprint: string; response: string }>(
        this.dataSource.manager,
        "SELECT idempotency_key, fingerprint, response FROM idempotency_keys WHERE organisation_id = ? AND scope = ? AND created_at >= ? AND idempotency_key",
        [...new Set(group.map((request) => request.key))],
        [organisationId, scope, cutoff],
      );
      for (const row of rows) {
        found.set(flightKeyOf({ organisationId, scope, key: row.idempotency_key }), {
          fingerprint: row.fingerprint,
          response: row.response,
        });
      }
    }
    return requests.map((request) => found.get(flightKeyOf(request)) ?? null);
  }

  private cutoff(): string {
    return toDbTimestamp(new Date(this.now() - this.settings.ttlMs));
  }

  /**
   * Inside the writer's transaction: stores the claims of a batch's events. For each event, in
   * order: undefined when it carries no claim or its claim is now stored (write the event), a
   * Replayed when an earlier request stored the same key for the same request (write nothing), an
   * IdempotencyKeyReused when for a different one.
   */
  async claim(
    manager: EntityManager,
    claims: (IdempotencyClaim | undefined)[],
  ): Promise<(Replayed | IdempotencyKeyReused | undefined)[]> {
    const results: (Replayed | IdempotencyKeyReused | undefined)[] = claims.map(() => undefined);
    const firstByKey = new Map<string, number>();
    const fresh: number[] = [];
    claims.forEach((claim, index) => {
      if (!claim) return;
      const key = flightKeyOf(claim);
      const first = firstByKey.get(key);
      if (first === undefined) {
        firstByKey.set(key, index);
        fresh.push(index);
      } else {
        // Two requests with one key in one batch: the first stores, the second replays it.
        const winner = claims[first] as IdempotencyClaim;
        results[index] =
          winner.fingerprint === claim.fingerprint ? { replayedResponse: winner.response } : new IdempotencyKeyReused();
      }
    });
    if (fresh.length === 0) return results;
    const cutoff = this.cutoff();
    const batchId = timeOrderedUuid();
    const createdAt = toDbTimestamp(new Date(this.now()));
    const freshClaims = fresh.map((index) => claims[index] as IdempotencyClaim);
    const groups = groupByScope(freshClaims);
    for (const [, group] of groups) {
      // An expired key no longer counts: its row must not make this request a replay.
      await deleteWhereIn(
        manager,
        "idempotency_keys",
        "idempotency_key",
        group.map((claim) => claim.key),
        "organisation_id = ? AND scope = ? AND created_at < ?",
        [group[0].organisationId, group[0].scope, cutoff],
      );
    }
    await insertRows(
      manager,
      "idempotency_keys",
      ["organisation_id", "scope", "idempotency_key", "fingerprint", "response", "created_at", "batch_id"],
      freshClaims.map((claim) => [
        claim.organisationId,
        claim.scope,
        claim.key,
        claim.fingerprint,
        claim.response,
        createdAt,
        batchId,
      ]),
      { conflictKey: ["organisation_id", "scope", "idempotency_key"] },
    );
    const won = new Set(
      (
        (await manager.query(
          "SELECT organisation_id, scope, idempotency_key FROM idempotency_keys WHERE batch_id = ?",
          [batchId],
        )) as { organisation_id: string; scope: string; idempotency_key: string }[]
      ).map((row) => flightKeyOf({ organisationId: row.organisation_id, scope: row.scope, key: row.idempotency_key })),
    );
    const lost = freshClaims.filter((claim) => !won.has(flightKeyOf(claim)));
    if (lost.length === 0) return results;
    // Another request stored these keys first (another instance, or a retry that slipped past the lookup).
    const storedFirst = new Map<string, { fingerprint: string; response: string }>();
    for (const [, group] of groupByScope(lost)) {
      const { organisationId, scope } = group[0];
      const rows = await selectWhereIn<{ idempotency_key: string; fingerprint: string; response: string }>(
        manager,
        "SELECT idempotency_key, fingerprint, response FROM idempotency_keys WHERE organisation_id = ? AND scope = ? AND idempotency_key",
        group.map((claim) => claim.key),
        [organisationId, scope],
      );
      for (const row of rows) storedFirst.set(flightKeyOf({ organisationId, scope, key: row.idempotency_key }), row);
    }
    fresh.forEach((index, k) => {
      const claim = freshClaims[k];
      const key = flightKeyOf(claim);
      if (won.has(key)) return;
      const row = storedFirst.get(key);
      results[index] =
        row && row.fingerprint === claim.fingerprint ? { replayedResponse: row.response } : new IdempotencyKeyReused();
    });
    return results;
  }

  /** Inside the writer's transaction: removes the claims of events that ended up storing nothing. */
  async release(manager: EntityManager, claims: IdempotencyClaim[]): Promise<void> {
    for (const claim of claims) {
      await manager.query(
        "DELETE FROM idempotency_keys WHERE organisation_id = ? AND scope = ? AND idempotency_key = ? AND fingerprint = ?",
        [claim.organisationId, claim.scope, claim.key, claim.fingerprint],
      );
    }
  }

  /**
   * Inside an erasure's transaction: forgets the keys of `scope` whose first answer was one of `responses`.
   * A replay of such a key would answer as if the erased event were still there, telling that it was recorded.
   */
  async forgetResponses(
    manager: EntityManager,
    organisationId: string,
    scope: string,
    responses: string[],
  ): Promise<void> {
    await deleteWhereIn(manager, "idempotency_keys", "response", responses, "organisation_id = ? AND scope = ?", [
      organisationId,
      scope,
    ]);
  }

  /** Inside an erasure's transaction: forgets every key of one scope (a public visitor's tracking id). */
  async forgetScope(manager: EntityManager, organisationId: string, scope: string): Promise<void> {
    await manager.query("DELETE FROM idempotency_keys WHERE organisation_id = ? AND scope = ?", [
      organisationId,
      scope,
    ]);
  }

  /** Deletes expired keys every sweepIntervalMs, in bounded chunks so the table is never locked for long. */
  startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      this.sweeping ??= this.sweep()
        .then(
          () => undefined,
          (error) => this.logger?.warn({ err: error }, "idempotency key sweep failed"),
        )
        .finally(() => {
          this.sweeping = undefined;
        });
    }, this.settings.sweepIntervalMs);
    this.sweeper.unref();
  }

  async stopSweeper(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.sweeping;
  }

  /** One sweep: chunks of at most 1,000 rows until none is left; returns how many went. */
  async sweep(): Promise<number> {
    const cutoff = this.cutoff();
    const sql =
      dialectOf(this.dataSource.manager) === "mysql"
        ? `DELETE FROM idempotency_keys WHERE created_at < ? LIMIT ${SWEEP_CHUNK}`
        : `DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE created_at < ? LIMIT ${SWEEP_CHUNK})`;
    let total = 0;
    for (;;) {
      // One short transaction per chunk (on SQLite, queued with the writer's); a structured result
      // says how many rows went, on both drivers.
      const deleted = await runInTransaction(
        this.dataSource,
        async (manager) => (await manager.queryRunner?.query(sql, [cutoff], true))?.affected ?? 0,
      );
      total += deleted;
      if (deleted < SWEEP_CHUNK) return total;
    }
  }
}
