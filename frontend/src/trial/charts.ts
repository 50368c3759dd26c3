// Live charts of the metrics a run reports: one uPlot chart per metric name, redrawn at most once a frame.
// A chart can overlay the cohort's median curve of the same metric (dashed grey), shown or hidden by a toggle.

import uPlot from "uplot";

import { t } from "./i18n";
import { chartData, MetricSeries, type Overlay, overlayData } from "./series";

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
  private overlays = new Map<string, Overlay>();
  private overlayLabel = "";
  private showOverlay = true;
  private toggle: HTMLLabelElement | null = null;

  constructor(element: HTMLElement) {
    this.element = element;
  }

  /** Overlay each metric's chart with the cohort median of the same name; `label` names it in the legend. */
  setOverlays(overlays: readonly Overlay[], label: string): void {
    this.overlays = new Map(overlays.map((overlay) => [overlay.name, overlay]));
    this.overlayLabel = label;
    if (this.overlays.size > 0 && this.toggle === null) {
      const doc = this.element.ownerDocument;
      const toggle = doc.createElement("label");
      toggle.className = "overlay-toggle";
      const box = doc.createElement("input");
      box.type = "checkbox";
      box.checked = this.showOverlay;
      box.dataset.testid = "overlay-toggle";
      box.addEventListener("change", () => {
        this.showOverlay = box.checked;
        this.redrawAll();
      });
      toggle.append(box, ` ${t("showMedian")}`);
      this.toggle = toggle;
      this.element.prepend(toggle);
    }
    this.redrawAll();
  }

  /** The overlay drawn on a metric's chart now, if any. */
  overlayOf(name: string): Overlay | undefined {
    return this.showOverlay ? this.overlays.get(name) : undefined;
  }

  private redrawAll(): void {
    for (const [name, chart] of this.charts) {
      chart.plot?.destroy(); // the series change: uPlot is made again with or without the median
      chart.plot = null;
      this.pending.add(name);
    }
    if (this.pending.size > 0 && this.frame === null) {
      this.frame = window.requestAnimationFrame(() => this.draw());
    }
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
    this.toggle = null;
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
      const overlay = this.overlayOf(name);
      const data = overlay ? overlayData(series, overlay) : chartData(series);
      if (chart.plot === null) chart.plot = this.plot(name, chart.box, data, overlay !== undefined);
      else chart.plot.setData(data);
      chart.box.dataset.points = String(series.x.length);
      this.legend(chart.box, overlay);
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

  private legend(box: HTMLElement, overlay: Overlay | undefined): void {
    let note = box.querySelector<HTMLElement>(".overlay-legend");
    if (overlay === undefined) {
      note?.remove();
      delete box.dataset.overlay;
      return;
    }
    if (note === null) {
      note = box.ownerDocument.createElement("span");
      note.className = "overlay-legend";
      box.querySelector("figcaption")?.append(note);
    }
    note.textContent = ` · ┄ ${this.overlayLabel}`;
    box.dataset.overlay = "cohort-median";
  }

  private plot(name: string, box: HTMLElement, data: uPlot.AlignedData, overlay: boolean): uPlot | null {
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
          series: [
            {},
            { label: name, stroke: colour, width: 2, spanGaps: true, points: { show: data[0].length < 40 } },
            ...(overlay
              ? [{ label: this.overlayLabel, stroke: "#6b7280", width: 1.5, dash: [6, 4], spanGaps: true,
                   points: { show: false } }]
              : []),
          ],
        },
        data,
        box,
      );
    } catch {
      return null;
    }
  }
}
