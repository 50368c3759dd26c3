// The trial statistics chart: submissions per day, from the JSON the page embeds (`#chart-data`).

import uPlot from "uplot";

import { daySeconds } from "./days";

const DAY = 86_400;

export interface ChartData {
  days: string[];
  counts: number[];
  buckets: number[];
}

export function drawSubmissionsChart(box: HTMLElement, data: ChartData): uPlot | null {
  if (data.days.length === 0) return null;
  const width = Math.max(320, box.clientWidth - 16);
  const xs = daySeconds(data.days);
  return new uPlot(
    {
      width,
      height: 220,
      // A day either side, so a single day is a point in a readable range rather than years of axis.
      scales: { x: { time: true, auto: false, min: xs[0] - DAY, max: xs[xs.length - 1] + DAY } },
      axes: [{}, { label: box.dataset.label ?? "" }],
      series: [{ label: box.dataset.xLabel ?? "" }, { label: box.dataset.label ?? "", stroke: "#8a3ffc", fill: "rgba(138,63,252,.15)", points: { show: true } }],
    },
    [xs, data.counts],
    box,
  );
}
