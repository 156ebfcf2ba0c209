// The one validation of split-test inputs, shared by the Zephr REST endpoints, GraphQL and the CSV.
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import { type FieldIssue, InvalidInput } from "../errors";
import type { PValueAdjustment } from "./statistics";

export const RULE_ID_MAX_LENGTH = 255;
export const OUTCOME_ID_MAX_LENGTH = 255;
export const CONVERSION_MAX_LENGTH = 255;
export const OUTCOMES_PER_CALL_MAX = 50;

/** N* of the confidence sequence: its default and its bounds. */
export const SEQUENTIAL_TUNING_DEFAULT = 5000;
export const SEQUENTIAL_TUNING_MAX = 1_000_000_000;
export const SRM_THRESHOLD_DEFAULT = 0.001;
export const P_VALUE_ADJUSTMENTS: readonly PValueAdjustment[] = ["NONE", "HOLM", "BENJAMINI_HOCHBERG"];
/** Days one series covers at most. */
export const SERIES_MAX_DAYS = 366;

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
  /** N*, the total sample size at which the sequential interval is tightest. */
  sequentialTuning: number;
  pValueAdjustment: PValueAdjustment;
  /** The configured split, by outcome id; null: an equal split. */
  expectedWeights: Map<string, number> | null;
  srmThreshold: number;
}

/** The filter of a series: the stats' filter, whose days are those of the series. */
export type RuleSeriesFilter = Omit<RuleStatsFilter, "pValueAdjustment" | "expectedWeights" | "srmThreshold">;

export interface SampleSizeInput {
  relativeMde: number;
  power: number;
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

export interface RawRuleStatsFilter {
  ruleId?: unknown;
  conversion?: unknown;
  from?: unknown;
  to?: unknown;
  baselineOutcomeId?: unknown;
  confidenceLevel?: unknown;
  sequentialTuning?: unknown;
  pValueAdjustment?: unknown;
  /** [{outcomeId, weight}] (GraphQL), or "id:weight,id:weight" (CSV query). */
  expectedWeights?: unknown;
  srmThreshold?: unknown;
}

export function parseRuleStatsFilter(raw: RawRuleStatsFilter): RuleStatsFilter {
  const issues: FieldIssue[] = [];
  const filter = parseWindow(raw, issues);
  const pValueAdjustment = raw.pValueAdjustment ?? "NONE";
  if (!P_VALUE_ADJUSTMENTS.includes(pValueAdjustment as PValueAdjustment)) {
    issues.push({
      path: ["pValueAdjustment"],
      type: "value_error",
      message: `pValueAdjustment must be one of ${P_VALUE_ADJUSTMENTS.join(", ")}`,
    });
  }
  const srmThreshold = optionalNumber(raw.srmThreshold, "srmThreshold", issues) ?? SRM_THRESHOLD_DEFAULT;
  if (!(srmThreshold > 0 && srmThreshold < 1)) {
    issues.push({
      path: ["srmThreshold"],
      type: "value_error",
      message: "srmThreshold must be between 0 and 1, exclusive",
    });
  }
  const expectedWeights = parseExpectedWeights(raw.expectedWeights, issues);
  if (issues.length > 0) throw new InvalidInput(issues);
  return {
    ...filter,
    pValueAdjustment: pValueAdjustment as PValueAdjustment,
    expectedWeights,
    srmThreshold,
  };
}

/** The filter of outcomeConversionSeries: the window, baseline, level and N* (no adjustment or split). */
export function parseRuleSeriesFilter(raw: RawRuleStatsFilter): RuleSeriesFilter {
  const issues: FieldIssue[] = [];
  const filter = parseWindow(raw, issues);
  if (issues.length > 0) throw new InvalidInput(issues);
  return filter;
}

/** sampleSize(relativeMde, power): relativeMde > 0, power in (0, 1). */
export function parseSampleSizeInput(raw: { relativeMde?: unknown; power?: unknown }): SampleSizeInput {
  const issues: FieldIssue[] = [];
  const relativeMde = optionalNumber(raw.relativeMde, "relativeMde", issues);
  const power = optionalNumber(raw.power, "power", issues) ?? 0.8;
  if (relativeMde === null || !(relativeMde > 0)) {
    issues.push({ path: ["relativeMde"], type: "value_error", message: "relativeMde must be a number above 0" });
  }
  if (!(power > 0 && power < 1)) {
    issues.push({ path: ["power"], type: "value_error", message: "power must be between 0 and 1, exclusive" });
  }
  if (issues.length > 0) throw new InvalidInput(issues);
  return { relativeMde: relativeMde as number, power };
}

/** A number from GraphQL or a query string; null when absent, NaN (with an issue) when not a finite number. */
function optionalNumber(value: unknown, field: string, issues: FieldIssue[]): number | null {
  if (value === undefined || value === null || value === "") return null;
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isFinite(number)) {
    issues.push({ path: [field], type: "value_error", message: `${field} must be a finite number` });
    return Number.NaN;
  }
  return number;
}

/** Weights as given; whether they name every outcome exactly once is checked against the outcomes. */
function parseExpectedWeights(value: unknown, issues: FieldIssue[]): Map<string, number> | null {
  if (value === undefined || value === null || value === "") return null;
  // A query string may repeat the parameter: its parts are one list.
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) value = value.join(",");
  let entries: { outcomeId: unknown; weight: unknown }[];
  if (typeof value === "string") {
    // "id:weight,id:weight": ids hold no commas; the weight follows the last colon.
    entries = value.split(",").map((item) => {
      const colon = item.lastIndexOf(":");
      return colon < 0
        ? { outcomeId: item, weight: undefined }
        : { outcomeId: item.slice(0, colon), weight: item.slice(colon + 1) };
    });
  } else if (Array.isArray(value)) {
    entries = value as { outcomeId: unknown; weight: unknown }[];
  } else {
    issues.push({ path: ["expectedWeights"], type: "value_error", message: "expectedWeights must be a list" });
    return null;
  }
  const weights = new Map<string, number>();
  entries.forEach((entry, index) => {
    const outcomeId = typeof entry?.outcomeId === "string" ? entry.outcomeId.trim() : "";
    const weight =
      typeof entry?.weight === "string" && entry.weight.trim() !== "" ? Number(entry.weight) : entry?.weight;
    if (outcomeId === "" || outcomeId.length > OUTCOME_ID_MAX_LENGTH) {
      issues.push({
        path: ["expectedWeights", index, "outcomeId"],
        type: "value_error",
        message: "expectedWeights names no valid outcome id",
      });
    } else if (typeof weight !== "number" || !Number.isFinite(weight) || weight <= 0) {
      issues.push({
        path: ["expectedWeights", index, "weight"],
        type: "value_error",
        message: `the weight of ${outcomeId} must be a finite number above 0`,
      });
    } else if (weights.has(outcomeId)) {
      issues.push({
        path: ["expectedWeights", index, "outcomeId"],
        type: "value_error",
        message: `expectedWeights names ${outcomeId} twice`,
      });
    } else {
      weights.set(outcomeId, weight);
    }
  });
  return weights;
}

/** The fields the stats and the series share: rule, conversion type, days, baseline, level, N*. */
function parseWindow(raw: RawRuleStatsFilter, issues: FieldIssue[]): RuleSeriesFilter {
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
  const sequentialTuning =
    optionalNumber(raw.sequentialTuning, "sequentialTuning", issues) ?? SEQUENTIAL_TUNING_DEFAULT;
  if (!(Number.isInteger(sequentialTuning) && sequentialTuning >= 1 && sequentialTuning <= SEQUENTIAL_TUNING_MAX)) {
    issues.push({
      path: ["sequentialTuning"],
      type: "value_error",
      message: `sequentialTuning must be a whole number from 1 to ${SEQUENTIAL_TUNING_MAX}`,
    });
  }
  return { ruleId: ruleId as string, conversion, from, to, baselineOutcomeId, confidenceLevel, sequentialTuning };
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
