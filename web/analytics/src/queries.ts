// The GraphQL operations the page sends, and the shapes of their answers.

export interface Interval {
  lower: number;
  upper: number;
}

export interface RuleSummary {
  ruleId: string;
  outcomeIds: string[];
  exposures: number;
  lastActivityAt: string;
}

export interface RulesPage {
  rules: {
    edges: { node: RuleSummary }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

export const RULES_QUERY = `query AnalyticsRules($first: Int, $after: String) {
  rules(first: $first, after: $after) {
    edges { node { ruleId outcomeIds exposures lastActivityAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export interface OutcomeStats {
  outcomeId: string;
  exposures: number;
  converters: number;
  conversions: number;
  conversionRate: number | null;
  confidenceInterval: Interval | null;
  uplift: number | null;
  upliftInterval: Interval | null;
  pValue: number | null;
  sequentialPValue: number | null;
  chanceToBeatBaseline: number | null;
  probabilityToBeBest: number;
}

export interface RuleStats {
  ruleId: string;
  baselineOutcomeId: string | null;
  confidenceLevel: number;
  totalExposures: number;
  sampleRatioMismatch: boolean | null;
  sampleRatioMismatchPValue: number | null;
  crossoverVisitors: number;
  outcomes: OutcomeStats[];
}

export interface OutcomeDay {
  day: string;
  outcomes: { outcomeId: string; conversionRate: number | null }[];
}

export interface StatsAnswer {
  outcomeConversionStats: RuleStats;
}

export interface SeriesAnswer {
  outcomeConversionSeries: { days: OutcomeDay[] };
}

/** The filters of the page, as both queries and the CSV route take them. */
export interface Filters {
  conversion?: string;
  from?: string;
  to?: string;
  confidenceLevel: number;
  baselineOutcomeId?: string;
}

export const STATS_QUERY = `query AnalyticsStats($ruleId: ID!, $conversion: String, $from: String, $to: String,
  $confidenceLevel: Float, $baselineOutcomeId: String) {
  outcomeConversionStats(ruleId: $ruleId, conversion: $conversion, from: $from, to: $to,
    confidenceLevel: $confidenceLevel, baselineOutcomeId: $baselineOutcomeId) {
    ruleId baselineOutcomeId confidenceLevel totalExposures
    sampleRatioMismatch sampleRatioMismatchPValue crossoverVisitors
    outcomes {
      outcomeId exposures converters conversions conversionRate confidenceInterval { lower upper }
      uplift upliftInterval { lower upper } pValue sequentialPValue chanceToBeatBaseline probabilityToBeBest
    }
  }
}`;

export const SERIES_QUERY = `query AnalyticsSeries($ruleId: ID!, $conversion: String, $from: String, $to: String,
  $confidenceLevel: Float, $baselineOutcomeId: String) {
  outcomeConversionSeries(ruleId: $ruleId, conversion: $conversion, from: $from, to: $to,
    confidenceLevel: $confidenceLevel, baselineOutcomeId: $baselineOutcomeId) {
    days { day outcomes { outcomeId conversionRate } }
  }
}`;
