// Logging conversions of contacts, and reading them back page by page, always within one organisation.
import { randomUUID } from "node:crypto";
import type { DataSource } from "typeorm";
import type { ContactService } from "../contacts/contact.service";
import { normalizeEmail } from "../contacts/email";
import type { BatchWriter } from "../db/batch-writer";
import type { StoredEvent } from "../db/event-store";
import { InvalidInput } from "../errors";
import { Conversion } from "./conversion.entity";
import { parseLogConversionInput, type RawLogConversionInput } from "./log-conversion.input";

export type LogConversionStatus = "ACCEPTED" | "CONTACT_NOT_FOUND";

export interface LogConversionResult {
  status: LogConversionStatus;
  conversion: Conversion | null;
}

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

export const CONVERSIONS_DEFAULT_PAGE = 20;
export const CONVERSIONS_MAX_PAGE = 100;

export class ConversionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly contacts: ContactService,
    private readonly writer: BatchWriter<StoredEvent>,
  ) {}

  /** Stores the event when the email is a contact of the organisation; resolves once committed. */
  async logConversion(organisationId: string, raw: RawLogConversionInput): Promise<LogConversionResult> {
    const input = parseLogConversionInput(raw);
    const contactId = await this.contacts.findContactId(organisationId, input.email);
    if (!contactId) return { status: "CONTACT_NOT_FOUND", conversion: null };
    const conversion = Object.assign(new Conversion(), {
      id: randomUUID(),
      organisationId,
      contactId,
      email: normalizeEmail(input.email),
      conversionType: input.conversionType,
      conversionData: input.conversionData,
      createdAt: new Date(),
    });
    await this.writer.enqueue({ kind: "conversion", row: conversion });
    return { status: "ACCEPTED", conversion };
  }

  /** Newest first, keyset-paginated on (createdAt, id): stable while new events arrive. */
  async list(
    organisationId: string,
    filter: ConversionFilter,
    first?: number | null,
    after?: string | null,
  ): Promise<ConversionPage> {
    if (first != null && first < 0) {
      throw new InvalidInput([{ path: ["first"], type: "greater_than_equal", message: "first must be 0 or more" }]);
    }
    if (filter.from && filter.to && filter.from > filter.to) {
      throw new InvalidInput([{ path: ["to"], type: "value_error", message: "to must not be before from" }]);
    }
    const limit = Math.min(first ?? CONVERSIONS_DEFAULT_PAGE, CONVERSIONS_MAX_PAGE);
    const query = this.dataSource
      .getRepository(Conversion)
      .createQueryBuilder("conversion")
      .where("conversion.organisation_id = :organisationId", { organisationId });
    if (filter.email != null) query.andWhere("conversion.email = :email", { email: normalizeEmail(filter.email) });
    if (filter.conversionType != null)
      query.andWhere("conversion.conversion_type = :type", { type: filter.conversionType });
    if (filter.from) query.andWhere("conversion.created_at >= :from", { from: filter.from });
    if (filter.to) query.andWhere("conversion.created_at <= :to", { to: filter.to });
    if (after) {
      const cursor = decodeCursor(after);
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
    return { conversions, cursors: conversions.map(encodeCursor), hasNextPage: rows.length > limit };
  }
}

function encodeCursor(conversion: Conversion): string {
  return Buffer.from(JSON.stringify([conversion.createdAt.toISOString(), conversion.id])).toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    const date = new Date(createdAt);
    if (typeof id === "string" && typeof createdAt === "string" && !Number.isNaN(date.getTime()))
      return { createdAt: date, id };
  } catch {
    // fall through to the error below
  }
  throw new InvalidInput([
    { path: ["after"], type: "value_error", message: "after is not a cursor returned by this API" },
  ]);
}
