// Live charts of the metrics a run reports: one uPlot chart per metric name, redrawn at most once a frame.
// A chart can overlay curves to compare against of the same metric (the cohort's median, dashed grey; the
// reference solution's, dotted), shown or hidden by one toggle.

import uPlot from "uplot";

import { t } from "./i18n";
import { MetricSeries, type Overlay, overlayData, runCount } from "./series";

export type OverlayKind = "cohort-median" | "reference";
const OVERLAY_KINDS: OverlayKind[] = ["cohort-median", "reference"];
const OVERLAY_STYLE: Record<OverlayKind, { stroke: string; dash: number[]; mark: string }> = {
  "cohort-median": { stroke: "#6b7280", dash: [6, 4], mark: "┄" },
  reference: { stroke: "#111827", dash: [2, 3], mark: "┈" },
};

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
  // The curves to compare against, by kind: each a map metric name → curve, its legend label and its stroke.
  private layers = new Map<OverlayKind, { byName: Map<string, Overlay>; label: string }>();
  private showOverlay = true;
  private toggle: HTMLLabelElement | null = null;

  constructor(element: HTMLElement) {
    this.element = element;
  }

  /** Overlay each metric's chart with the curve of the same name of `kind`; `label` names it in the legend. */
  setOverlays(overlays: readonly Overlay[], label: string, kind: OverlayKind = "cohort-median"): void {
    this.layers.set(kind, { byName: new Map(overlays.map((overlay) => [overlay.name, overlay])), label });
    if (overlays.length > 0 && this.toggle === null) {
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
      toggle.append(box, ` ${t("showCurves")}`);
      this.toggle = toggle;
      this.element.prepend(toggle);
    }
    this.redrawAll();
  }

  /** The curves drawn on a metric's chart now, in a fixed order (the cohort median, then the reference). */
  overlaysOf(name: string): { kind: OverlayKind; overlay: Overlay; label: string }[] {
    if (!this.showOverlay) return [];
    const drawn = [];
    for (const kind of OVERLAY_KINDS) {
      const layer = this.layers.get(kind);
      const overlay = layer?.byName.get(name);
      if (layer && overlay) drawn.push({ kind, overlay, label: layer.label });
    }
    return drawn;
  }

  private redrawAll(): void {
    for (const [name, chart] of this.charts) {
      chart.plot?.destroy(); // the series change: uPlot is made again with or without the overlays
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
      const drawn = this.overlaysOf(name);
      const data = overlayData(series, ...drawn.map((layer) => layer.overlay));
      const runs = runCount(series);
      if (chart.plot !== null && chart.box.dataset.runs !== String(runs)) {
        chart.plot.destroy(); // a new training run (the next seed) is a new line: uPlot is made again
        chart.plot = null;
      }
      if (chart.plot === null) chart.plot = this.plot(name, chart.box, data, drawn, runs);
      else chart.plot.setData(data);
      chart.box.dataset.points = String(series.x.length);
      chart.box.dataset.runs = String(runs);
      this.legend(chart.box, drawn);
      this.runsLegend(chart.box, runs);
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

  /** Where a trial trains once per seed: which colour is which run, in the caption. */
  private runsLegend(box: HTMLElement, runs: number): void {
    box.querySelector(".runs-legend")?.remove();
    if (runs < 2) return;
    const doc = box.ownerDocument;
    const note = doc.createElement("span");
    note.className = "runs-legend";
    const first = COLOURS.indexOf(box.dataset.colour ?? "");
    for (let run = 0; run < runs; run += 1) {
      const item = doc.createElement("span");
      item.style.color = COLOURS[(Math.max(first, 0) + run) % COLOURS.length];
      item.textContent = ` · ━ ${t("seedRun", { n: run + 1 })}`;
      note.append(item);
    }
    box.querySelector("figcaption")?.append(note);
  }

  private legend(box: HTMLElement, drawn: { kind: OverlayKind; label: string }[]): void {
    box.querySelector(".overlay-legend")?.remove();
    if (drawn.length === 0) {
      delete box.dataset.overlay;
      return;
    }
    const note = box.ownerDocument.createElement("span");
    note.className = "overlay-legend";
    note.textContent = drawn.map((layer) => ` · ${OVERLAY_STYLE[layer.kind].mark} ${layer.label}`).join("");
    box.querySelector("figcaption")?.append(note);
    box.dataset.overlay = drawn.map((layer) => layer.kind).join(" ");
  }

  private plot(name: string, box: HTMLElement, data: uPlot.AlignedData,
               drawn: { kind: OverlayKind; label: string }[], runs = 1): uPlot | null {
    if (!canDraw(box.ownerDocument)) return null; // the caption and point count still show the metric
    const width = Math.max(240, Math.min(box.clientWidth || this.element.clientWidth || 320, 560));
    const colour = box.dataset.colour ?? COLOURS[this.charts.size % COLOURS.length];
    box.dataset.colour = colour; // kept when the chart is made again, so its lines keep their colours
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
            ...Array.from({ length: runs }, (_, run) => ({
              label: runs > 1 ? `${name} · ${t("seedRun", { n: run + 1 })}` : name,
              stroke: runs > 1 ? COLOURS[(COLOURS.indexOf(colour) + run) % COLOURS.length] : colour,
              width: 2,
              spanGaps: true,
              points: { show: data[0].length < 40 },
            })),
            ...drawn.map((layer) => ({ label: layer.label, stroke: OVERLAY_STYLE[layer.kind].stroke, width: 1.5,
                                       dash: OVERLAY_STYLE[layer.kind].dash, spanGaps: true, points: { show: false } })),
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
