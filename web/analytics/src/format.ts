// Numbers as the browser's locale writes them (Intl with no locale given: the browser's own).
// The test formats the GraphQL answer with these same definitions, written down in the README.

const integerFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const percentFormat = new Intl.NumberFormat(undefined, {
  style: "percent",
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const signedPercentFormat = new Intl.NumberFormat(undefined, {
  style: "percent",
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
  signDisplay: "exceptZero",
});
const pValueFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 4, maximumFractionDigits: 4 });

/** What a figure that is undefined (null in GraphQL) shows. */
export const NOT_DEFINED = "—";

/** Below this a p-value shows as "< 0.0001" (four decimals would round it to zero). */
export const SMALLEST_P_VALUE_SHOWN = 0.0001;

export const integer = (value: number): string => integerFormat.format(value);

export const percent = (value: number | null): string => (value === null ? NOT_DEFINED : percentFormat.format(value));

export const signedPercent = (value: number | null): string =>
  value === null ? NOT_DEFINED : signedPercentFormat.format(value);

export const pValue = (value: number | null): string => {
  if (value === null) return NOT_DEFINED;
  return value < SMALLEST_P_VALUE_SHOWN
    ? `< ${pValueFormat.format(SMALLEST_P_VALUE_SHOWN)}`
    : pValueFormat.format(value);
};

export const interval = (
  value: { lower: number; upper: number } | null,
  format: (value: number) => string = percent,
): string => (value === null ? NOT_DEFINED : `${format(value.lower)} – ${format(value.upper)}`);

/** A day of the series axis in the browser's locale (the day is a UTC calendar day). */
const dayFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
export const day = (isoDay: string): string => dayFormat.format(new Date(`${isoDay}T00:00:00Z`));
