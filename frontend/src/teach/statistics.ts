// The trial statistics chart: submissions per day, from the JSON the page embeds (`#chart-data`).
// Drawn as solid bars over every day from the first to the last (a day without submissions is a zero,
// not a gap), whole-number counts, and day labels in the page's language ("12月7日" / "Dec 7").

import uPlot from "uplot";

import { daySeconds } from "./days";

const DAY = 86_400;
const COLOUR = "#6d28d9";

export interface ChartData {
  days: string[];
  counts: number[];
  buckets: number[];
}

/** Every day from the first to the last as chart x values (UTC midnights), a missing day counted 0. */
export function everyDay(data: ChartData): [number[], number[]] {
  const given = new Map<number, number>();
  daySeconds(data.days).forEach((x, i) => given.set(x, (given.get(x) ?? 0) + (data.counts[i] ?? 0)));
  if (given.size === 0) return [[], []];
  const first = Math.min(...given.keys());
  const last = Math.max(...given.keys());
  const xs: number[] = [];
  for (let x = first; x <= last && xs.length < 3660; x += DAY) xs.push(x);
  return [xs, xs.map((x) => given.get(x) ?? 0)];
}

/** A day (UTC midnight, seconds) as an axis label in the page's language. */
export function dayLabel(seconds: number, lang: string): string {
  return new Intl.DateTimeFormat(lang || undefined, { month: "short", day: "numeric", timeZone: "UTC" }).format(
    new Date(seconds * 1000),
  );
}

/** Whole-number ticks for a count axis: 0 up to at least the highest count. */
export function countRange(counts: number[]): [number, number] {
  return [0, Math.max(1, ...counts)];
}

export function chartOptions(box: HTMLElement, xs: number[], counts: number[], lang: string): uPlot.Options {
  const width = Math.max(320, box.clientWidth - 16);
  const label = box.dataset.label ?? "";
  const xLabel = box.dataset.xLabel ?? "";
  return {
    width,
    height: 220,
    legend: { show: false },
    // Half a day either side: a single day is one clear bar in the middle, not a dot at the edge.
    scales: {
      x: { time: false, auto: false, range: () => [xs[0] - DAY / 2, xs[xs.length - 1] + DAY / 2] },
      y: { auto: false, range: () => countRange(counts) },
    },
    axes: [
      {
        label: xLabel,
        incrs: [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY],
        values: (_u, splits) => splits.map((x) => dayLabel(x, lang)),
      },
      {
        label,
        incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
        values: (_u, splits) => splits.map((y) => (Number.isInteger(y) ? String(y) : "")),
      },
    ],
    series: [
      { label: xLabel },
      {
        label,
        stroke: COLOUR,
        fill: COLOUR,
        width: 1,
        paths: uPlot.paths.bars?.({ size: [0.7, 48], align: 0 }),
        points: { show: false },
      },
    ],
  };
}

export function drawSubmissionsChart(box: HTMLElement, data: ChartData): uPlot | null {
  const [xs, counts] = everyDay(data);
  if (xs.length === 0) return null;
  const lang = box.ownerDocument.documentElement.lang;
  return new uPlot(chartOptions(box, xs, counts, lang), [xs, counts], box);
}
