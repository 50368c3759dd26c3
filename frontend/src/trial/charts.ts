// Live charts of the metrics a run reports: one uPlot chart per metric name, redrawn at most once a frame.

import uPlot from "uplot";

import { t } from "./i18n";
import { chartData, MetricSeries } from "./series";

let canvasSupport: boolean | null = null;

function canDraw(doc: Document): boolean {
  if (canvasSupport === null) {
    try {
      canvasSupport = doc.createElement("canvas").getContext("2d") !== null;
    } catch {
      canvasSupport = false;
    }
  }
  return canvasSupport;
}

const COLOURS = ["#c0392b", "#2471a3", "#1e8449", "#b9770e", "#7d3c98", "#117a65"];

export class Charts {
  readonly series = new MetricSeries();
  private readonly element: HTMLElement;
  private charts = new Map<string, { plot: uPlot | null; box: HTMLElement }>();
  private pending = new Set<string>();
  private frame: number | null = null;

  constructor(element: HTMLElement) {
    this.element = element;
  }

  add(payload: unknown): void {
    for (const name of this.series.add(payload)) this.pending.add(name);
    if (this.pending.size > 0 && this.frame === null) {
      this.frame = window.requestAnimationFrame(() => this.draw());
    }
  }

  clear(): void {
    for (const { plot } of this.charts.values()) plot?.destroy();
    this.charts.clear();
    this.element.replaceChildren();
    this.element.hidden = true;
  }

  private draw(): void {
    this.frame = null;
    for (const name of this.pending) {
      const series = this.series.get(name);
      if (series === undefined) continue;
      let chart = this.charts.get(name);
      if (chart === undefined) {
        chart = this.create(name);
        this.charts.set(name, chart);
      }
      const data = chartData(series);
      if (chart.plot === null) chart.plot = this.plot(name, chart.box, data);
      else chart.plot.setData(data);
      chart.box.dataset.points = String(series.x.length);
    }
    this.pending.clear();
  }

  private create(name: string): { plot: uPlot | null; box: HTMLElement } {
    const doc = this.element.ownerDocument;
    const box = doc.createElement("figure");
    box.className = "chart";
    box.dataset.testid = "chart";
    box.dataset.metric = name;
    const caption = doc.createElement("figcaption");
    caption.textContent = name;
    box.append(caption);
    this.element.hidden = false;
    this.element.append(box);
    return { plot: null, box };
  }

  private plot(name: string, box: HTMLElement, data: [number[], number[]]): uPlot | null {
    if (!canDraw(box.ownerDocument)) return null; // the caption and point count still show the metric
    const width = Math.max(240, Math.min(box.clientWidth || this.element.clientWidth || 320, 560));
    const colour = COLOURS[this.charts.size % COLOURS.length];
    try {
      return new uPlot(
        {
          width,
          height: 180,
          legend: { show: false },
          scales: { x: { time: false } },
          axes: [{ label: t("step") }, {}],
          series: [{}, { label: name, stroke: colour, width: 2, points: { show: data[0].length < 40 } }],
        },
        data,
        box,
      );
    } catch {
      return null;
    }
  }
}
