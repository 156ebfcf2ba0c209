// Contacts of an organisation: bulk upsert, CSV import, and the batched lookup used on every log.
import { randomUUID } from "node:crypto";
import { type Readable, Transform } from "node:stream";
import { parse } from "csv-parse";
import DataLoader from "dataloader";
import { type DataSource, type EntityManager, In } from "typeorm";
import { boundedBy, type DatabaseDeadline } from "../db/deadline";
import { dialectOf, selectWhereIn } from "../db/sql";
import { InvalidInput } from "../errors";
import { Contact } from "./contact.entity";
import { contactEmailProblem, normalizeEmail } from "./email";

export interface UpsertCounts {
  added: number;
  existing: number;
}

export interface ImportReport extends UpsertCounts {
  invalid: { line: number; reason: string }[];
  /** Present only when more invalid lines were found than are listed. */
  invalidTotal?: number;
}

export const UPSERT_MAX_EMAILS = 1_000;
const CHUNK_SIZE = 500;
const IMPORT_MAX_LISTED_INVALID = 1_000;
/** Known contacts remembered at most (the oldest is forgotten first). */
const CACHE_MAX_ENTRIES = 100_000;

interface ContactKey {
  organisationId: string;
  email: string;
  /** The asking request's database deadline (epoch ms); unset: a full budget from now. */
  deadline?: number;
}

export class ContactService {
  /**
   * Process-wide, uncached: lookups of concurrent requests arriving in the same tick share one
   * SELECT, and a contact added a moment ago is always seen.
   */
  private readonly idByEmail = new DataLoader<ContactKey, string | null, string>((keys) => this.findIds(keys), {
    cache: false,
    maxBatchSize: 500,
  });

  /**
   * Known contacts only, briefly: a contact added a moment ago is always seen (no "not a contact"
   * is remembered), and one erased since is caught when its conversion is written (the writer reads
   * the contact again, locked) and on this instance dropped from here at once.
   */
  private readonly known = new Map<string, { id: string; expiresAt: number }>();

  constructor(
    private readonly dataSource: DataSource,
    /** Bounds the lookup on every log (503 instead of a hang when the database does not answer). */
    private readonly deadline?: DatabaseDeadline,
    private readonly cacheTtlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The id of the organisation's contact with this email (any case, surrounding spaces), or null. */
  async findContactId(organisationId: string, email: string): Promise<string | null> {
    const [id] = await this.findContactIds(organisationId, [email]);
    return id;
  }

  /**
   * findContactId for many emails of one organisation (a batch): the remembered ones at once, the
   * others in one SELECT shared with the lookups of concurrent requests.
   */
  async findContactIds(
    organisationId: string,
    emails: readonly string[],
    /** Epoch ms past which the request stops waiting for the database (unset: a full budget from now). */
    deadline?: number,
  ): Promise<(string | null)[]> {
    const ids: (string | null)[] = new Array(emails.length);
    const missing: { position: number; key: ContactKey; cacheKey: string }[] = [];
    const now = this.now();
    for (let position = 0; position < emails.length; position++) {
      const key = { organisationId, email: normalizeEmail(emails[position]), deadline };
      const cacheKey = `${organisationId}\u0000${key.email}`;
      const cached = this.known.get(cacheKey);
      if (cached && cached.expiresAt > now) ids[position] = cached.id;
      else missing.push({ position, key, cacheKey });
    }
    if (missing.length === 0) return ids;
    const found = await this.idByEmail.loadMany(missing.map(({ key }) => key));
    const expiresAt = this.now() + this.cacheTtlMs;
    missing.forEach(({ position, cacheKey }, k) => {
      const id = found[k];
      if (id instanceof Error) throw id;
      ids[position] = id;
      if (id !== null && this.cacheTtlMs > 0) this.remember(cacheKey, id, expiresAt);
    });
    return ids;
  }

  /** Remembers a known contact as the newest entry, forgetting the oldest past CACHE_MAX_ENTRIES. */
  private remember(cacheKey: string, id: string, expiresAt: number): void {
    this.known.delete(cacheKey);
    if (this.known.size >= CACHE_MAX_ENTRIES) this.known.delete(this.known.keys().next().value as string);
    this.known.set(cacheKey, { id, expiresAt });
  }

  private async findIds(keys: readonly ContactKey[]): Promise<(string | null)[]> {
    const emailsByOrganisation = new Map<string, Set<string>>();
    for (const key of keys) {
      const emails = emailsByOrganisation.get(key.organisationId) ?? new Set();
      emails.add(key.email);
      emailsByOrganisation.set(key.organisationId, emails);
    }
    const found = new Map<string, string>();
    // One SELECT for the lookups of several requests: bounded by the earliest of their deadlines.
    let deadline = Number.POSITIVE_INFINITY;
    for (const key of keys) deadline = Math.min(deadline, key.deadline ?? Number.POSITIVE_INFINITY);
    const bound = Number.isFinite(deadline) ? deadline : undefined;
    // Plain SQL through the driver: this runs for every request that misses the cache.
    for (const [organisationId, emails] of emailsByOrganisation) {
      const select = () =>
        selectWhereIn<{ id: string; email: string }>(
          this.dataSource.manager,
          "SELECT id, email FROM contacts WHERE organisation_id = ? AND email",
          [...emails],
          [organisationId],
        );
      const rows = await boundedBy(this.deadline, select, bound);
      for (const row of rows) found.set(`${organisationId}\u0000${row.email}`, row.id);
    }
    return keys.map((key) => found.get(`${key.organisationId}\u0000${key.email}`) ?? null);
  }

  /**
   * Inside an erasing transaction: the id of the organisation's contact with this email, its row
   * locked (MySQL) so no conversion of it can be written until the transaction ends; null if none.
   */
  async lockForErasure(manager: EntityManager, organisationId: string, email: string): Promise<string | null> {
    const lock = dialectOf(manager) === "mysql" ? " FOR UPDATE" : "";
    const [row] = await manager.query(`SELECT id FROM contacts WHERE organisation_id = ? AND email = ?${lock}`, [
      organisationId,
      normalizeEmail(email),
    ]);
    return row ? (row.id as string) : null;
  }

  /** Inside an erasing transaction: deletes the contact (its conversions must be gone first). */
  async delete(manager: EntityManager, organisationId: string, contactId: string): Promise<void> {
    await manager.query("DELETE FROM contacts WHERE organisation_id = ? AND id = ?", [organisationId, contactId]);
    for (const [key, entry] of this.known) if (entry.id === contactId) this.known.delete(key);
  }

  /** Adds the emails not yet known to the organisation; idempotent. Rejects any invalid email. */
  async upsert(organisationId: string, emails: string[]): Promise<UpsertCounts> {
    if (emails.length > UPSERT_MAX_EMAILS) {
      throw new InvalidInput([
        { path: ["emails"], type: "too_long", message: `at most ${UPSERT_MAX_EMAILS} emails per call` },
      ]);
    }
    const issues = emails.flatMap((email, index) => {
      const problem = contactEmailProblem(normalizeEmail(email));
      return problem ? [{ path: ["emails", index], type: "value_error", message: problem }] : [];
    });
    if (issues.length > 0) throw new InvalidInput(issues);
    return this.upsertNormalized(organisationId, emails.map(normalizeEmail));
  }

  private async upsertNormalized(organisationId: string, emails: string[]): Promise<UpsertCounts> {
    const counts = { added: 0, existing: 0 };
    for (let start = 0; start < emails.length; start += CHUNK_SIZE) {
      const chunk = emails.slice(start, start + CHUNK_SIZE);
      const unique = [...new Set(chunk)];
      counts.existing += chunk.length - unique.length;
      // No transaction: on SQLite a read-then-write transaction fails at once ("database is locked")
      // when another process writes, instead of waiting. Each statement is safe on its own.
      const manager = this.dataSource.manager;
      const known = await manager.getRepository(Contact).find({
        select: { email: true },
        where: { organisationId, email: In(unique) },
      });
      const knownEmails = new Set(known.map((row) => row.email));
      const fresh = unique.filter((email) => !knownEmails.has(email));
      counts.existing += knownEmails.size;
      counts.added += fresh.length;
      if (fresh.length === 0) continue;
      const now = new Date();
      // orIgnore: a concurrent import of the same email must not fail this one.
      await manager
        .createQueryBuilder()
        .insert()
        .into(Contact)
        .values(fresh.map((email) => ({ id: randomUUID(), organisationId, email, createdAt: now })))
        .orIgnore()
        .execute();
    }
    return counts;
  }

  /**
   * Imports a CSV with an `email` column (others ignored), streaming: memory stays bounded
   * whatever the file size. Invalid lines are reported, not fatal.
   */
  async importCsv(
    organisationId: string,
    input: Readable,
    onProgress?: (linesRead: number) => void,
  ): Promise<ImportReport> {
    const report: ImportReport = { added: 0, existing: 0, invalid: [] };
    let invalidTotal = 0;
    const noteInvalid = (line: number, reason: string) => {
      invalidTotal++;
      if (report.invalid.length < IMPORT_MAX_LISTED_INVALID) report.invalid.push({ line, reason });
    };
    let hasEmailColumn = false;
    const parser = input.pipe(crlfToLf()).pipe(
      parse({
        columns: (header: string[]) => {
          const names = header.map((name) => name.trim().toLowerCase());
          hasEmailColumn = names.includes("email");
          if (!hasEmailColumn) {
            throw new InvalidInput([{ path: ["file"], type: "missing", message: "the CSV has no email column" }]);
          }
          return names;
        },
        bom: true,
        info: true,
        skip_empty_lines: true,
        relax_column_count: true,
        trim: true,
      }),
    );
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const counts = await this.upsertNormalized(organisationId, batch);
      report.added += counts.added;
      report.existing += counts.existing;
      batch = [];
    };
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string | undefined>;
      info: { lines: number };
    }>) {
      const email = normalizeEmail(record.email ?? "");
      const problem = contactEmailProblem(email);
      if (problem) noteInvalid(info.lines, problem);
      else batch.push(email);
      if (batch.length >= CHUNK_SIZE) {
        await flush();
        onProgress?.(info.lines);
      }
    }
    await flush();
    if (!hasEmailColumn)
      throw new InvalidInput([{ path: ["file"], type: "missing", message: "the CSV has no header row" }]);
    if (invalidTotal > report.invalid.length) report.invalidTotal = invalidTotal;
    return report;
  }
}

/**
 * csv-parse counts a CRLF inside a quoted field as two lines, shifting every reported line number
 * after it: normalise line ends first (a CR split across chunks is held back).
 */
function crlfToLf(): Transform {
  let carriageReturnPending = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      let text = chunk.toString("latin1");
      if (carriageReturnPending) text = `\r${text}`;
      carriageReturnPending = text.endsWith("\r");
      if (carriageReturnPending) text = text.slice(0, -1);
      callback(null, Buffer.from(text.replace(/\r\n?/g, "\n"), "latin1"));
    },
    flush(callback) {
      callback(null, carriageReturnPending ? Buffer.from("\n") : null);
    },
  });
}
