// Teaching pages: the live progress matrix and the trial statistics chart.

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
