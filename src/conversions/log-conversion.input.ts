// The one validation of a logConversion input, shared by the REST shim and GraphQL.
// Issue types and messages follow pydantic v2, so the legacy 422 bodies read as they always did.
import { EMAIL_MAX_LENGTH } from "../contacts/email";
import { type FieldIssue, InvalidInput } from "../errors";

export const CONVERSION_TYPE_MAX_LENGTH = 63;
/** conversion_data as JSON text, in UTF-8 bytes. */
export const CONVERSION_DATA_MAX_BYTES = 32 * 1024;
/** Objects and arrays nested at most this deep (MariaDB's JSON check refuses 32 and more). */
export const CONVERSION_DATA_MAX_DEPTH = 16;

export interface LogConversionInput {
  email: string;
  conversionType: string | null;
  conversionData: Record<string, unknown> | null;
}

/** Fields as they arrive: undefined when absent. */
export interface RawLogConversionInput {
  email?: unknown;
  conversionType?: unknown;
  conversionData?: unknown;
}

export function parseLogConversionInput(raw: RawLogConversionInput): LogConversionInput {
  const issues: FieldIssue[] = [];
  const email = requiredString(raw.email, ["email"], EMAIL_MAX_LENGTH, issues);
  const conversionType = optionalString(raw.conversionType, ["conversionType"], CONVERSION_TYPE_MAX_LENGTH, issues);
  const conversionData = optionalJsonObject(raw.conversionData, ["conversionData"], issues);
  if (issues.length > 0) throw new InvalidInput(issues);
  return { email: email as string, conversionType: conversionType ?? null, conversionData: conversionData ?? null };
}

function requiredString(value: unknown, path: string[], maxLength: number, issues: FieldIssue[]): string | undefined {
  if (value === undefined) {
    issues.push({ path, type: "missing", message: "Field required" });
    return undefined;
  }
  const text = checkString(value, path, maxLength, issues);
  if (text !== undefined && text.trim().length === 0) {
    issues.push({ path, type: "string_too_short", message: "String should have at least 1 character" });
    return undefined;
  }
  return text;
}

function optionalString(
  value: unknown,
  path: string[],
  maxLength: number,
  issues: FieldIssue[],
): string | null | undefined {
  if (value === undefined || value === null) return null;
  return checkString(value, path, maxLength, issues);
}

function checkString(value: unknown, path: string[], maxLength: number, issues: FieldIssue[]): string | undefined {
  if (typeof value !== "string") {
    issues.push({ path, type: "string_type", message: "Input should be a valid string" });
    return undefined;
  }
  if (value.length > maxLength) {
    issues.push({ path, type: "string_too_long", message: `String should have at most ${maxLength} characters` });
    return undefined;
  }
  return value.toWellFormed();
}

function optionalJsonObject(
  value: unknown,
  path: string[],
  issues: FieldIssue[],
): Record<string, unknown> | null | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    issues.push({ path, type: "dict_type", message: "Input should be a valid dictionary" });
    return undefined;
  }
  const normalized = normalizeJson(value, 1);
  if (normalized === TOO_DEEP) {
    issues.push({
      path,
      type: "value_error",
      message: `Value error, nested deeper than ${CONVERSION_DATA_MAX_DEPTH} levels`,
    });
    return undefined;
  }
  if (Buffer.byteLength(JSON.stringify(normalized)) > CONVERSION_DATA_MAX_BYTES) {
    issues.push({
      path,
      type: "value_error",
      message: `Value error, larger than ${CONVERSION_DATA_MAX_BYTES} bytes as JSON`,
    });
    return undefined;
  }
  return normalized as Record<string, unknown>;
}

const TOO_DEEP = Symbol("too deep");

/**
 * A copy safe for every database: lone UTF-16 surrogates (valid JSON, refused by MariaDB's JSON
 * check) become U+FFFD, in keys and values alike; depth is bounded. Object.fromEntries keeps a
 * "__proto__" key as plain data.
 */
function normalizeJson(value: unknown, depth: number): unknown {
  if (typeof value === "string") return value.toWellFormed();
  if (value === null || typeof value !== "object") return value;
  if (depth > CONVERSION_DATA_MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) {
    const items = value.map((item) => normalizeJson(item, depth + 1));
    return items.includes(TOO_DEEP) ? TOO_DEEP : items;
  }
  const entries: [string, unknown][] = [];
  for (const [key, item] of Object.entries(value)) {
    const normalized = normalizeJson(item, depth + 1);
    if (normalized === TOO_DEEP) return TOO_DEEP;
    entries.push([key.toWellFormed(), normalized]);
  }
  return Object.fromEntries(entries);
}
