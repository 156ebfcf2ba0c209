// Logging conversions of contacts, and reading them back page by page, always within one organisation.
import type { DataSource } from "typeorm";
import type { ContactService } from "../contacts/contact.service";
import { normalizeEmail } from "../contacts/email";
import type { EventSink } from "../db/batch-writer";
import { boundedBy, type DatabaseDeadline } from "../db/deadline";
import { jsonColumnTransformer } from "../db/json-column";
import { decodeCursor, encodeCursor, pageLimit } from "../db/pagination";
import { inRetriedTransaction } from "../db/persist-in-transaction";
import { fromDbTimestamp } from "../db/sql";
import { timeOrderedUuid } from "../db/time-ordered-id";
import { type FieldIssue, InvalidInput } from "../errors";
import {
  API_CLIENT_SCOPE,
  fingerprintOf,
  IdempotencyKeyReused,
  type IdempotencyRequest,
  type IdempotencyService,
  parseIdempotencyKey,
  type Replayed,
} from "../idempotency/idempotency.service";
import { Conversion } from "./conversion.entity";
import { ContactErased, type ConversionEvent } from "./conversion.writer";
import { type LogConversionInput, parseLogConversionInput, type RawLogConversionInput } from "./log-conversion.input";

export type LogConversionStatus = "ACCEPTED" | "CONTACT_NOT_FOUND" | "INVALID";

export interface LogConversionResult {
  status: LogConversionStatus;
  conversion: Conversion | null;
  /** True when an earlier request with the same Idempotency-Key stored the event: nothing was stored now. */
  replayed: boolean;
  /** Why an item of a batch is INVALID (paths within the item); empty otherwise. */
  issues: FieldIssue[];
}

/** A conversion as logged, with the client's optional Idempotency-Key. */
export interface RawLoggedConversion extends RawLogConversionInput {
  idempotencyKey?: unknown;
}

/** Items of one logConversions call at most. */
export const LOG_CONVERSIONS_MAX_ITEMS = 500;

export interface ConversionFilter {
  email?: string | null;
  conversionType?: string | null;
  from?: Date | null;
  to?: Date | null;
}

export interface ConversionPage {
  conversions: Conversion[];
  cursors: string[];
  hasNextPage: boolean;
}

/** What erasing a contact deleted. */
export interface ContactErasure {
  contacts: number;
  conversions: number;
}

export const CONVERSIONS_DEFAULT_PAGE = 20;
export const CONVERSIONS_MAX_PAGE = 100;

/** Conversions of an erased contact read at a time (their ids, to forget the keys that replay them). */
const ERASURE_PAGE = 1_000;

/** What an idempotency key of a stored conversion keeps for its replays. */
interface ReplayResponse {
  conversionId: string;
}

const replayResponseOf = (conversionId: string) => JSON.stringify({ conversionId } satisfies ReplayResponse);

export class ConversionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly contacts: ContactService,
    private readonly events: EventSink<ConversionEvent, Replayed | undefined>,
    private readonly idempotency: IdempotencyService,
    /** Bounds the reads of an ingest request (503 instead of a hang when the database does not answer). */
    private readonly deadline?: DatabaseDeadline,
  ) {}

  /** `read`, given up at the request's deadline (DatabaseUnreachable) when the database does not answer. */
  private readBounded<T>(read: () => Promise<T>, deadline: number | undefined): Promise<T> {
    return boundedBy(this.deadline, read, deadline);
  }

  /**
   * Stores the event when the email is a contact of the organisation; resolves once committed.
   * With an Idempotency-Key, a repeat of the same request replays the first answer and stores nothing.
   */
  async logConversion(
    organisationId: string,
    raw: RawLoggedConversion,
    /** Epoch ms past which the request stops waiting for the database (unset: a full budget from now). */
    deadline?: number,
  ): Promise<LogConversionResult> {
    const [result] = await this.record(organisationId, [judge(organisationId, raw)], deadline);
    if (result instanceof IdempotencyKeyReused) throw result;
    return result;
  }

  /**
   * Many conversions at once (server-side senders), each judged like logConversion; an invalid
   * item never fails a valid one. Answers in input order, once every accepted item is committed.
   * The batch costs one lookup of its keys, one of its contacts and one wait for the writer.
   */
  async logConversions(
    organisationId: string,
    items: RawLoggedConversion[],
    deadline?: number,
  ): Promise<LogConversionResult[]> {
    if (items.length === 0 || items.length > LOG_CONVERSIONS_MAX_ITEMS) {
      throw new InvalidInput([
        {
          path: ["conversions"],
          type: items.length === 0 ? "too_short" : "too_long",
          message: `between 1 and ${LOG_CONVERSIONS_MAX_ITEMS} conversions per call`,
        },
      ]);
    }
    const results: LogConversionResult[] = new Array(items.length);
    const judged: JudgedConversion[] = [];
    const positions: number[] = [];
    items.forEach((item, position) => {
      try {
        judged.push(judge(organisationId, item));
        positions.push(position);
      } catch (error) {
        if (!(error instanceof InvalidInput)) throw error;
        results[position] = invalid(error.issues);
      }
    });
    const recorded = await this.record(organisationId, judged, deadline);
    recorded.forEach((result, k) => {
      results[positions[k]] =
        result instanceof IdempotencyKeyReused
          ? invalid([{ path: ["idempotencyKey"], type: "value_error", message: result.message }])
          : result;
    });
    return results;
  }

  /** Judged conversions as logged: replays of stored keys, the others stored (an Error refuses a key reuse). */
  private record(
    organisationId: string,
    judged: JudgedConversion[],
    deadline: number | undefined,
  ): Promise<(LogConversionResult | IdempotencyKeyReused)[]> {
    return this.idempotency.runAll(
      judged.map((conversion) => conversion.request),
      (positions) =>
        this.store(
          organisationId,
          positions.map((position) => judged[position]),
          deadline,
        ),
      (responses) => this.replay(organisationId, responses, deadline),
      deadline,
    );
  }

  /** A key another request stored first (found at write time) answers IdempotencyKeyReused or a replay. */
  private async store(
    organisationId: string,
    judged: JudgedConversion[],
    deadline: number | undefined,
  ): Promise<(LogConversionResult | IdempotencyKeyReused)[]> {
    const contactIds = await this.contacts.findContactIds(
      organisationId,
      judged.map((conversion) => conversion.email),
      deadline,
    );
    const results: (LogConversionResult | IdempotencyKeyReused)[] = new Array(judged.length);
    const events: ConversionEvent[] = [];
    const eventPositions: number[] = [];
    const createdAt = new Date();
    judged.forEach(({ input, email, request }, position) => {
      const contactId = contactIds[position];
      if (!contactId) {
        results[position] = notFound();
        return;
      }
      const conversion = Object.assign(new Conversion(), {
        id: timeOrderedUuid(),
        organisationId,
        contactId,
        email,
        conversionType: input.conversionType,
        conversionData: input.conversionData,
        createdAt,
      });
      const idempotency = request && { ...request, response: replayResponseOf(conversion.id) };
      events.push({ kind: "conversion", row: conversion, idempotency });
      eventPositions.push(position);
      results[position] = { status: "ACCEPTED", conversion, replayed: false, issues: [] };
    });
    const written = await this.events.enqueueAll(events, deadline);
    const replayed: { position: number; response: string }[] = [];
    written.forEach((outcome, k) => {
      const position = eventPositions[k];
      if (outcome instanceof ContactErased) results[position] = notFound();
      else if (outcome instanceof IdempotencyKeyReused) results[position] = outcome;
      else if (outcome instanceof Error) throw outcome;
      else if (outcome) replayed.push({ position, response: outcome.replayedResponse });
    });
    if (replayed.length > 0) {
      const answers = await this.replay(
        organisationId,
        replayed.map(({ response }) => response),
        deadline,
      );
      replayed.forEach(({ position }, k) => {
        results[position] = answers[k];
      });
    }
    return results;
  }

  /** The answers of requests whose Idempotency-Key stored their event earlier: those events, as they are now. */
  private async replay(
    organisationId: string,
    responses: string[],
    deadline: number | undefined,
  ): Promise<LogConversionResult[]> {
    const ids = responses.map((response) => (JSON.parse(response) as ReplayResponse).conversionId);
    const conversions = await this.readBounded(() => this.findByIds(organisationId, ids), deadline);
    return conversions.map((conversion) => ({ status: "ACCEPTED", conversion, replayed: true, issues: [] }));
  }

  /**
   * Erases a contact of the organisation and every conversion of it, in one transaction (the right
   * to be forgotten): afterwards the email is a stranger and nothing of it can be read back.
   * Idempotent: erasing an unknown email deletes nothing.
   */
  async eraseContact(organisationId: string, email: string): Promise<ContactErasure> {
    return inRetriedTransaction(this.dataSource, async (manager) => {
      const contactId = await this.contacts.lockForErasure(manager, organisationId, email);
      if (!contactId) return { contacts: 0, conversions: 0 };
      // The keys whose replay would answer with one of its conversions go too, a page of them at a time
      // (in the order of the contact's index): such a replay would tell that the email was logged.
      let conversions = 0;
      for (let after: { created_at: unknown; id: string } | undefined; ; ) {
        const page: { created_at: unknown; id: string }[] = await manager.query(
          `SELECT created_at, id FROM conversions WHERE organisation_id = ? AND contact_id = ?${after ? " AND (created_at > ? OR (created_at = ? AND id > ?))" : ""} ORDER BY created_at, id LIMIT ${ERASURE_PAGE}`,
          [organisationId, contactId, ...(after ? [after.created_at, after.created_at, after.id] : [])],
        );
        if (page.length === 0) break;
        conversions += page.length;
        const responses = page.map(({ id }) => replayResponseOf(id));
        await this.idempotency.forgetResponses(manager, organisationId, API_CLIENT_SCOPE, responses);
        after = page[page.length - 1];
      }
      await manager.query("DELETE FROM conversions WHERE organisation_id = ? AND contact_id = ?", [
        organisationId,
        contactId,
      ]);
      await this.contacts.delete(manager, organisationId, contactId);
      return { contacts: 1, conversions };
    });
  }

  /** Newest first, keyset-paginated on (createdAt, id): stable while new events arrive. */
  async list(
    organisationId: string,
    filter: ConversionFilter,
    first?: number | null,
    after?: string | null,
  ): Promise<ConversionPage> {
    const limit = pageLimit(first, CONVERSIONS_DEFAULT_PAGE, CONVERSIONS_MAX_PAGE);
    if (filter.from && filter.to && filter.from > filter.to) {
      throw new InvalidInput([{ path: ["to"], type: "value_error", message: "to must not be before from" }]);
    }
    const query = this.dataSource
      .getRepository(Conversion)
      .createQueryBuilder("conversion")
      .where("conversion.organisation_id = :organisationId", { organisationId });
    // By the contact's id: its index (contact_id, created_at, id) orders the page, and conversions
    // keep no index of their own on the email (one index fewer to write per event).
    if (filter.email != null)
      query.andWhere(
        "conversion.contact_id IN (SELECT id FROM contacts WHERE organisation_id = :organisationId AND email = :email)",
        { email: normalizeEmail(filter.email) },
      );
    if (filter.conversionType != null)
      query.andWhere("conversion.conversion_type = :type", { type: filter.conversionType });
    if (filter.from) query.andWhere("conversion.created_at >= :from", { from: filter.from });
    if (filter.to) query.andWhere("conversion.created_at <= :to", { to: filter.to });
    if (after) {
      const cursor = decodeConversionCursor(after);
      query.andWhere(
        "(conversion.created_at < :cursorAt OR (conversion.created_at = :cursorAt AND conversion.id < :cursorId))",
        { cursorAt: cursor.createdAt, cursorId: cursor.id },
      );
    }
    const rows = await query
      .orderBy("conversion.created_at", "DESC")
      .addOrderBy("conversion.id", "DESC")
      .limit(limit + 1)
      .getMany();
    const conversions = rows.slice(0, limit);
    return { conversions, cursors: conversions.map(conversionCursor), hasNextPage: rows.length > limit };
  }

  /** Conversions by id, in the order of the ids; null for an id unknown to the organisation. */
  async findByIds(organisationId: string, ids: readonly string[]): Promise<(Conversion | null)[]> {
    const rows = await this.dataSource
      .getRepository(Conversion)
      .createQueryBuilder("conversion")
      .where("conversion.organisation_id = :organisationId", { organisationId })
      .andWhere("conversion.id IN (:...ids)", { ids: [...ids] })
      .getMany();
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /**
   * The newest `first` conversions of each contact email, one statement per distinct
   * (first, conversionType) among the keys: a window function ranks each email's events.
   */
  async latestForContacts(
    organisationId: string,
    keys: readonly { email: string; first: number; conversionType: string | null }[],
  ): Promise<Conversion[][]> {
    const groups = new Map<string, { first: number; conversionType: string | null; emails: Set<string> }>();
    for (const key of keys) {
      const groupKey = JSON.stringify([key.first, key.conversionType]);
      const group = groups.get(groupKey) ?? { first: key.first, conversionType: key.conversionType, emails: new Set() };
      group.emails.add(normalizeEmail(key.email));
      groups.set(groupKey, group);
    }
    const found = new Map<string, Conversion[]>();
    for (const [groupKey, group] of groups) {
      const limit = Math.min(Math.max(group.first, 0), CONVERSIONS_MAX_PAGE);
      if (limit === 0) continue;
      const emails = [...group.emails];
      const typeFilter = group.conversionType != null ? " AND conversion_type = ?" : "";
      const rows: Record<string, unknown>[] = await this.dataSource.query(
        `SELECT * FROM (
           SELECT id, organisation_id, contact_id, email, conversion_type, conversion_data, created_at,
                  ROW_NUMBER() OVER (PARTITION BY email ORDER BY created_at DESC, id DESC) AS position
             FROM conversions
            WHERE organisation_id = ? AND contact_id IN (${CONTACT_IDS_OF_EMAILS(emails.length)})${typeFilter}
         ) ranked WHERE position <= ? ORDER BY email, position`,
        [
          organisationId,
          organisationId,
          ...emails,
          ...(group.conversionType != null ? [group.conversionType] : []),
          limit,
        ],
      );
      for (const row of rows) {
        const conversion = conversionFromRow(row);
        const listKey = `${groupKey}\u0000${conversion.email}`;
        found.set(listKey, [...(found.get(listKey) ?? []), conversion]);
      }
    }
    return keys.map(
      (key) => found.get(`${JSON.stringify([key.first, key.conversionType])}\u0000${normalizeEmail(key.email)}`) ?? [],
    );
  }

  /** How many conversions each contact email has, one statement per distinct conversionType. */
  async countForContacts(
    organisationId: string,
    keys: readonly { email: string; conversionType: string | null }[],
  ): Promise<number[]> {
    const counts = new Map<string, number>();
    const types = [...new Set(keys.map((key) => key.conversionType))];
    for (const conversionType of types) {
      const emails = [
        ...new Set(keys.filter((key) => key.conversionType === conversionType).map((key) => normalizeEmail(key.email))),
      ];
      const typeFilter = conversionType != null ? " AND conversion_type = ?" : "";
      const rows: { email: string; n: number | string }[] = await this.dataSource.query(
        `SELECT email, COUNT(*) AS n FROM conversions
          WHERE organisation_id = ? AND contact_id IN (${CONTACT_IDS_OF_EMAILS(emails.length)})${typeFilter}
          GROUP BY email`,
        [organisationId, organisationId, ...emails, ...(conversionType != null ? [conversionType] : [])],
      );
      for (const row of rows) counts.set(JSON.stringify([row.email, conversionType]), Number(row.n));
    }
    return keys.map((key) => counts.get(JSON.stringify([normalizeEmail(key.email), key.conversionType])) ?? 0);
  }
}

/**
 * The contacts of `count` emails of an organisation (parameters: the organisation, then the
 * emails): conversions are found by their contact's id, whose index orders them by time.
 */
const CONTACT_IDS_OF_EMAILS = (count: number) =>
  `SELECT id FROM contacts WHERE organisation_id = ? AND email IN (${Array.from({ length: count }, () => "?").join(", ")})`;

/** A raw `conversions` row as the entity (JSON and DATETIME read as each driver returns them). */
function conversionFromRow(row: Record<string, unknown>): Conversion {
  return Object.assign(new Conversion(), {
    id: row.id as string,
    organisationId: row.organisation_id as string,
    contactId: row.contact_id as string,
    email: row.email as string,
    conversionType: (row.conversion_type as string | null) ?? null,
    conversionData: (jsonColumnTransformer.from(row.conversion_data) as Record<string, unknown> | null) ?? null,
    createdAt: fromDbTimestamp(row.created_at),
  });
}

function conversionCursor(conversion: Conversion): string {
  return encodeCursor([conversion.createdAt.toISOString(), conversion.id]);
}

function decodeConversionCursor(cursor: string): { createdAt: Date; id: string } {
  return decodeCursor(cursor, ([createdAt, id]) => {
    const date = new Date(createdAt as string);
    return typeof id === "string" && typeof createdAt === "string" && !Number.isNaN(date.getTime())
      ? { createdAt: date, id }
      : undefined;
  });
}

/** A logConversion input found valid, with its normalised email and its key's claim, if any. */
interface JudgedConversion {
  input: LogConversionInput;
  email: string;
  request?: IdempotencyRequest;
}

/** Validates one conversion as logged (InvalidInput otherwise) and fingerprints its key. */
function judge(organisationId: string, raw: RawLoggedConversion): JudgedConversion {
  const key = parseIdempotencyKey(raw.idempotencyKey, ["idempotencyKey"]);
  const input = parseLogConversionInput(raw);
  const email = normalizeEmail(input.email);
  if (key === null) return { input, email };
  const fingerprint = fingerprintOf(["conversion", email, input.conversionType, input.conversionData]);
  return { input, email, request: { organisationId, scope: API_CLIENT_SCOPE, key, fingerprint } };
}

function invalid(issues: FieldIssue[]): LogConversionResult {
  return { status: "INVALID", conversion: null, replayed: false, issues };
}

function notFound(): LogConversionResult {
  return { status: "CONTACT_NOT_FOUND", conversion: null, replayed: false, issues: [] };
}
