// The trial statistics chart: submissions per day, from the JSON the page embeds (`#chart-data`).

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

import { daySeconds } from "./days";

export interface ChartData {
  days: string[];
  counts: number[];
  buckets: number[];
}

export function drawSubmissionsChart(box: HTMLElement, data: ChartData): uPlot | null {
  if (data.days.length === 0) return null;
  const width = Math.max(320, box.clientWidth - 16);
  return new uPlot(
    {
      width,
      height: 220,
      scales: { x: { time: true } },
      axes: [{}, { label: box.dataset.label ?? "" }],
      series: [{}, { label: box.dataset.label ?? "", stroke: "#8a3ffc", fill: "rgba(138,63,252,.15)", points: { show: true } }],
    },
    [daySeconds(data.days), data.counts],
    box,
  );
}
