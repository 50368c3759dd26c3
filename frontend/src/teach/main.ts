// Teaching pages: the live progress matrix and the trial statistics chart. The entry's styles (uPlot's)
// come out as /static/frontend/teach.css, which the statistics page links.

import "uplot/dist/uPlot.min.css";

import { followMatrix } from "./matrix";
import { drawSubmissionsChart, type ChartData } from "./statistics";

function main(): void {
  const table = document.querySelector<HTMLTableElement>("table#matrix");
  if (table !== null) followMatrix(table, document.getElementById("live-status"));
  const chart = document.getElementById("submissions-chart");
  const data = document.getElementById("chart-data");
  if (chart !== null && data?.textContent) drawSubmissionsChart(chart, JSON.parse(data.textContent) as ChartData);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", main, { once: true });
} else {
  main();
}
