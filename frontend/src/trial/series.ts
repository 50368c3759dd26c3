// Metric events → one series per metric name, x = the reported step (or, when the code gave none, one
// past the last point of that metric). Non-finite values (NaN arrives as null) are kept out.

export interface Series {
  name: string;
  x: number[];
  y: number[];
}

/** Which training run each point of a series belongs to (0, 1, …), for the series MetricSeries builds: once
 * a run has gone past its first step, a reported step at or before that first step starts the next run, as
 * when a trial trains once per seed. A series with no entry here is one run. */
const RUNS = new WeakMap<Series, number[]>();

function runOf(series: Series, index: number): number {
  return RUNS.get(series)?.[index] ?? 0;
}

/** How many training runs a series holds (one per seed where a trial trains several times). */
export function runCount(series: Series): number {
  const runs = RUNS.get(series);
  return runs && runs.length > 0 ? Math.max(...runs) + 1 : 1;
}

export class MetricSeries {
  private byName = new Map<string, Series>();

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): Series | undefined {
    return this.byName.get(name);
  }

  /** Add one metric event's payload `{step, metrics: {name: value}}`; the names that changed. */
  add(payload: unknown): string[] {
    if (typeof payload !== "object" || payload === null) return [];
    const { step, metrics } = payload as { step?: unknown; metrics?: unknown };
    if (typeof metrics !== "object" || metrics === null) return [];
    const changed: string[] = [];
    for (const [name, value] of Object.entries(metrics as Record<string, unknown>)) {
      if (typeof value !== "number" || !Number.isFinite(value)) continue;
      let series = this.byName.get(name);
      if (series === undefined) {
        series = { name, x: [], y: [] };
        this.byName.set(name, series);
        RUNS.set(series, []);
      }
      const explicit = typeof step === "number" && Number.isFinite(step);
      const x = explicit ? step : series.x.length > 0 ? series.x[series.x.length - 1] + 1 : 0;
      const runs = RUNS.get(series) ?? [];
      const current = runs.length > 0 ? runs[runs.length - 1] : 0;
      const steps = series.x.filter((_, i) => runs[i] === current);
      const restarted = explicit && steps.length > 0 && x <= steps[0] && steps.some((s) => s !== steps[0]);
      runs.push(restarted ? current + 1 : current);
      series.x.push(x);
      series.y.push(value);
      changed.push(name);
    }
    return changed;
  }
}

/** The series as uPlot data: x ascending (steps may arrive out of order, or restart). */
export function chartData(series: Series): [number[], number[]] {
  const order = series.x.map((_, i) => i).sort((a, b) => series.x[a] - series.x[b] || a - b);
  return [order.map((i) => series.x[i]), order.map((i) => series.y[i])];
}

/** A curve to compare against for one metric (GET /api/v1/exercises/<slug>/curves/): the cohort's median
 * (`series`, whose `median` becomes `values`) or the reference solution's (`reference`). */
export interface Overlay {
  name: string;
  steps: number[];
  values: number[];
}

function pointsOf(overlay: Overlay): Map<number, number> {
  const points = new Map<number, number>();
  overlay.steps.forEach((x, i) => {
    const value = overlay.values[i];
    if (Number.isFinite(x) && typeof value === "number" && Number.isFinite(value)) points.set(x, value);
  });
  return points;
}

/** The run(s) and the overlays as uPlot data: x is the union of all steps, then one array per training run
 * (one per seed: never one zig-zag line through both), then one per overlay; a missing point is null. */
export function overlayData(series: Series, ...overlays: Overlay[]): [number[], ...(number | null)[][]] {
  const own = Array.from({ length: runCount(series) }, () => new Map<number, number>());
  series.x.forEach((x, i) => own[runOf(series, i)].set(x, series.y[i])); // a step reported twice: its last value
  const others = overlays.map(pointsOf);
  const all = [...own, ...others];
  const steps = [...new Set(all.flatMap((points) => [...points.keys()]))].sort((a, b) => a - b);
  return [steps, ...all.map((points) => steps.map((x) => points.get(x) ?? null))];
}

export interface Standing {
  metric: string;
  step: number;
  value: number;
  median: number;
  ratio: number;
}

const PREFERRED = ["loss", "val_loss", "train_loss"];

/** Where a run stands against a curve (the cohort median, the reference), by the platform's rule: loss first (then val_loss,
 * train_loss, then the other metrics by name), at the last step both have where the median is not zero. */
export function standingOf(runs: MetricSeries, overlays: readonly Overlay[]): Standing | null {
  const byName = new Map(overlays.map((overlay) => [overlay.name, overlay]));
  const names = [
    ...PREFERRED.filter((name) => runs.get(name) && byName.has(name)),
    ...runs.names.filter((name) => !PREFERRED.includes(name) && byName.has(name)).sort(),
  ];
  for (const name of names) {
    const series = runs.get(name) as Series;
    const overlay = byName.get(name) as Overlay;
    const median = pointsOf(overlay);
    const own = new Map<number, number>();
    series.x.forEach((x, i) => own.set(x, series.y[i]));
    const shared = [...own.keys()].filter((x) => {
      const value = median.get(x);
      return typeof value === "number" && Number.isFinite(value) && value !== 0;
    });
    if (shared.length === 0) continue;
    const step = Math.max(...shared);
    const value = own.get(step) as number;
    const middle = median.get(step) as number;
    return { metric: name, step, value, median: middle, ratio: value / middle };
  }
  return null;
}

/** A ratio as the page says it: two significant digits, whole numbers from 10. */
export function ratioText(ratio: number): string {
  return Math.abs(ratio) >= 10 ? ratio.toFixed(0) : String(Number(ratio.toPrecision(2)));
}
