// The two charts of a rule: each outcome's rate with its confidence interval as error bars, and
// the cumulative rate per outcome over days. Chart.js draws on a canvas; the canvas's label
// carries the same figures in words for screen readers.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  type Plugin,
  PointElement,
  Tooltip,
} from "chart.js";
import { day, interval, percent } from "./format";
import type { OutcomeDay, OutcomeStats } from "./queries";

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  Legend,
);

// Distinguishable in colour and in grey (Okabe-Ito); the baseline is always the neutral grey.
const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#f0e442"];
const BASELINE_COLOUR = "#6b6b6b";

/** A stable colour per outcome, the same in both charts. */
export function colourOf(outcomeIds: string[], baselineOutcomeId: string | null): Map<string, string> {
  const colours = new Map<string, string>();
  let next = 0;
  for (const outcomeId of outcomeIds) {
    colours.set(
      outcomeId,
      outcomeId === baselineOutcomeId ? BASELINE_COLOUR : (PALETTE[next++ % PALETTE.length] as string),
    );
  }
  return colours;
}

const percentTick = (value: number | string) => percent(Number(value));

/** Draws each bar's [lower, upper] as a whisker with caps, over the bars. */
function errorBars(intervals: ({ lower: number; upper: number } | null)[]): Plugin<"bar"> {
  return {
    id: "errorBars",
    afterDatasetsDraw(chart) {
      const { ctx } = chart;
      const y = chart.scales.y;
      const bars = chart.getDatasetMeta(0).data;
      if (!y) return;
      ctx.save();
      ctx.strokeStyle = "#1a1a1a";
      ctx.lineWidth = 1.5;
      bars.forEach((bar, index) => {
        const range = intervals[index];
        if (!range) return;
        const x = bar.x;
        const top = y.getPixelForValue(range.upper);
        const bottom = y.getPixelForValue(range.lower);
        const cap = Math.min(8, (bar as unknown as { width: number }).width / 4);
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, bottom);
        ctx.moveTo(x - cap, top);
        ctx.lineTo(x + cap, top);
        ctx.moveTo(x - cap, bottom);
        ctx.lineTo(x + cap, bottom);
        ctx.stroke();
      });
      ctx.restore();
    },
  };
}

/** Removes a chart and what its label said: nothing of a previous key's figures is left. */
export function clearChart(canvas: HTMLCanvasElement) {
  Chart.getChart(canvas)?.destroy();
  canvas.removeAttribute("aria-label");
}

const nameOf = (outcomeId: string, baselineOutcomeId: string | null) =>
  outcomeId === baselineOutcomeId ? `${outcomeId} (baseline)` : outcomeId;

export function drawRates(
  canvas: HTMLCanvasElement,
  outcomes: OutcomeStats[],
  baselineOutcomeId: string | null,
  colours: Map<string, string>,
): Chart<"bar"> {
  Chart.getChart(canvas)?.destroy();
  const intervals = outcomes.map((outcome) => outcome.confidenceInterval);
  canvas.setAttribute(
    "aria-label",
    `Conversion rate by outcome. ${outcomes
      .map(
        (outcome) =>
          `${nameOf(outcome.outcomeId, baselineOutcomeId)}: ${percent(outcome.conversionRate)} (${interval(outcome.confidenceInterval)})`,
      )
      .join("; ")}`,
  );
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: outcomes.map((outcome) => nameOf(outcome.outcomeId, baselineOutcomeId)),
      datasets: [
        {
          label: "Conversion rate",
          data: outcomes.map((outcome) => outcome.conversionRate),
          backgroundColor: outcomes.map((outcome) => `${colours.get(outcome.outcomeId)}cc`),
          borderColor: outcomes.map((outcome) => colours.get(outcome.outcomeId) ?? BASELINE_COLOUR),
          borderWidth: outcomes.map((outcome) => (outcome.outcomeId === baselineOutcomeId ? 3 : 1)),
        },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        y: {
          beginAtZero: true,
          suggestedMax: Math.max(0, ...intervals.map((range) => range?.upper ?? 0)),
          ticks: { callback: percentTick },
        },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            label: (item) => {
              const outcome = outcomes[item.dataIndex];
              return outcome ? `${percent(outcome.conversionRate)} (${interval(outcome.confidenceInterval)})` : "";
            },
          },
        },
      },
    },
    plugins: [errorBars(intervals)],
  });
}

export function drawSeries(
  canvas: HTMLCanvasElement,
  days: OutcomeDay[],
  outcomeIds: string[],
  baselineOutcomeId: string | null,
  colours: Map<string, string>,
): Chart<"line"> {
  Chart.getChart(canvas)?.destroy();
  const rateOn = (outcomeDay: OutcomeDay, outcomeId: string) =>
    outcomeDay.outcomes.find((outcome) => outcome.outcomeId === outcomeId)?.conversionRate ?? null;
  const last = days.at(-1);
  canvas.setAttribute(
    "aria-label",
    last
      ? `Cumulative conversion rate per day, ${days.length} ${days.length === 1 ? "day" : "days"} to ${last.day}. On ${last.day}: ${outcomeIds
          .map((outcomeId) => `${nameOf(outcomeId, baselineOutcomeId)} ${percent(rateOn(last, outcomeId))}`)
          .join("; ")}`
      : "Cumulative conversion rate per day: no day in this window.",
  );
  return new Chart(canvas, {
    type: "line",
    data: {
      labels: days.map((outcomeDay) => day(outcomeDay.day)),
      datasets: outcomeIds.map((outcomeId) => ({
        label: nameOf(outcomeId, baselineOutcomeId),
        data: days.map((outcomeDay) => rateOn(outcomeDay, outcomeId)),
        borderColor: colours.get(outcomeId),
        backgroundColor: colours.get(outcomeId),
        borderDash: outcomeId === baselineOutcomeId ? [6, 4] : [],
        pointRadius: days.length > 60 ? 0 : 2,
        spanGaps: false,
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, ticks: { callback: percentTick } } },
      plugins: {
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${percent(item.raw as number | null)}` } },
      },
    },
  });
}
