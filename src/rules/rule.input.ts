// The one validation of split-test inputs, shared by the Zephr REST endpoints, GraphQL and the CSV.
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import { type FieldIssue, InvalidInput } from "../errors";

export const RULE_ID_MAX_LENGTH = 255;
export const OUTCOME_ID_MAX_LENGTH = 255;
export const CONVERSION_MAX_LENGTH = 255;
export const OUTCOMES_PER_CALL_MAX = 50;

export interface RuleOutcomesInput {
  /** As sent (exact match, spaces included). */
  ruleId: string;
  /** Zephr's comma-separated list: split, each id trimmed, de-duplicated, in the order given. */
  outcomeIds: string[];
}

export interface RuleConversionInput extends RuleOutcomesInput {
  /** As sent (exact match, spaces included). */
  conversion: string;
}

export interface RuleStatsFilter {
  ruleId: string;
  conversion: string | null;
  from: string | null;
  to: string | null;
  baselineOutcomeId: string | null;
  confidenceLevel: number;
}

export function parseRuleOutcomesInput(raw: { ruleId?: unknown; outcomeId?: unknown }): RuleOutcomesInput {
  const issues: FieldIssue[] = [];
  const ruleId = requiredText(raw.ruleId, "ruleId", RULE_ID_MAX_LENGTH, issues);
  const outcomeIds = outcomeList(raw.outcomeId, issues);
  if (issues.length > 0) throw new InvalidInput(issues);
  return { ruleId: ruleId as string, outcomeIds: outcomeIds as string[] };
}

export function parseRuleConversionInput(raw: {
  ruleId?: unknown;
  outcomeId?: unknown;
  conversion?: unknown;
}): RuleConversionInput {
  const issues: FieldIssue[] = [];
  const ruleId = requiredText(raw.ruleId, "ruleId", RULE_ID_MAX_LENGTH, issues);
  const outcomeIds = outcomeList(raw.outcomeId, issues);
  const conversion = requiredText(raw.conversion, "conversion", CONVERSION_MAX_LENGTH, issues);
  if (issues.length > 0) throw new InvalidInput(issues);
  return { ruleId: ruleId as string, outcomeIds: outcomeIds as string[], conversion: conversion as string };
}

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

export function parseRuleStatsFilter(raw: {
  ruleId?: unknown;
  conversion?: unknown;
  from?: unknown;
  to?: unknown;
  baselineOutcomeId?: unknown;
  confidenceLevel?: unknown;
}): RuleStatsFilter {
  const issues: FieldIssue[] = [];
  const ruleId = requiredText(raw.ruleId, "ruleId", RULE_ID_MAX_LENGTH, issues);
  const conversion = optionalText(raw.conversion, "conversion", CONVERSION_MAX_LENGTH, issues);
  const baselineOutcomeId = optionalText(raw.baselineOutcomeId, "baselineOutcomeId", OUTCOME_ID_MAX_LENGTH, issues);
  const from = optionalDay(raw.from, "from", issues);
  const to = optionalDay(raw.to, "to", issues);
  if (from && to && from > to) issues.push({ path: ["to"], type: "value_error", message: "to is before from" });
  let confidenceLevel = 0.95;
  if (raw.confidenceLevel !== undefined && raw.confidenceLevel !== null && raw.confidenceLevel !== "") {
    confidenceLevel =
      typeof raw.confidenceLevel === "string" ? Number(raw.confidenceLevel) : (raw.confidenceLevel as number);
    if (
      typeof confidenceLevel !== "number" ||
      !Number.isFinite(confidenceLevel) ||
      confidenceLevel <= 0 ||
      confidenceLevel >= 1
    ) {
      issues.push({
        path: ["confidenceLevel"],
        type: "value_error",
        message: "confidenceLevel must be a number between 0 and 1, exclusive",
      });
    } else if (!hasUsableQuantile(confidenceLevel)) {
      issues.push({
        path: ["confidenceLevel"],
        type: "value_error",
        message: "confidenceLevel is too close to 0 or 1 to compute an interval",
      });
    }
  }
  if (issues.length > 0) throw new InvalidInput(issues);
  return { ruleId: ruleId as string, conversion, from, to, baselineOutcomeId, confidenceLevel };
}

/**
 * The intervals use z = Φ⁻¹(1 − (1 − level)/2). In floating point a level within about 1e-16 of
 * 1 gives z = Infinity, and one within about 1e-16 of 0 gives z = 0: neither is an interval.
 */
function hasUsableQuantile(confidenceLevel: number): boolean {
  const z = normalQuantile(1 - (1 - confidenceLevel) / 2, 0, 1);
  return Number.isFinite(z) && z > 0;
}

function requiredText(value: unknown, field: string, maxLength: number, issues: FieldIssue[]): string | undefined {
  if (value === undefined || value === null) {
    issues.push({ path: [field], type: "missing", message: `${field} is required` });
    return undefined;
  }
  if (typeof value !== "string") {
    issues.push({ path: [field], type: "string_type", message: `${field} must be a string` });
    return undefined;
  }
  // Kept exactly as sent, spaces included: rule ids and conversion types are compared byte for
  // byte, so " purchase" is not "purchase". Only a blank value, which names nothing, is refused.
  const text = value;
  if (text.trim().length === 0) {
    issues.push({ path: [field], type: "string_too_short", message: `${field} must not be empty` });
    return undefined;
  }
  if (text.length > maxLength) {
    issues.push({
      path: [field],
      type: "string_too_long",
      message: `${field} must be at most ${maxLength} characters`,
    });
    return undefined;
  }
  return text.toWellFormed();
}

function optionalText(value: unknown, field: string, maxLength: number, issues: FieldIssue[]): string | null {
  if (value === undefined || value === null || value === "") return null;
  return requiredText(value, field, maxLength, issues) ?? null;
}

function outcomeList(value: unknown, issues: FieldIssue[]): string[] | undefined {
  // The list as a whole is bounded by the body limit; the real limits apply to each id after the split.
  const text = requiredText(value, "outcomeId", 16 * 1024, issues);
  if (text === undefined) return undefined;
  const ids = [
    ...new Set(
      text
        .split(",")
        .map((id) => id.trim())
        .filter((id) => id.length > 0),
    ),
  ];
  if (ids.length === 0) {
    issues.push({ path: ["outcomeId"], type: "string_too_short", message: "outcomeId names no outcome" });
  } else if (ids.length > OUTCOMES_PER_CALL_MAX) {
    issues.push({
      path: ["outcomeId"],
      type: "too_long",
      message: `outcomeId names more than ${OUTCOMES_PER_CALL_MAX} outcomes`,
    });
  } else if (ids.some((id) => id.length > OUTCOME_ID_MAX_LENGTH)) {
    issues.push({
      path: ["outcomeId"],
      type: "string_too_long",
      message: `each outcome id must be at most ${OUTCOME_ID_MAX_LENGTH} characters`,
    });
  } else {
    return ids;
  }
  return undefined;
}

function optionalDay(value: unknown, field: string, issues: FieldIssue[]): string | null {
  if (value === undefined || value === null || value === "") return null;
  const match = typeof value === "string" ? DAY_PATTERN.exec(value) : null;
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  if (!match || !date || date.toISOString().slice(0, 10) !== value) {
    issues.push({ path: [field], type: "value_error", message: `${field} must be a calendar day as YYYY-MM-DD` });
    return null;
  }
  return value as string;
}
