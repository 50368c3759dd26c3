// Metric events → one series per metric name, x = the reported step (or, when the code gave none, one
// past the last point of that metric). Non-finite values (NaN arrives as null) are kept out.

export interface Series {
  name: string;
  x: number[];
  y: number[];
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
      }
      const x =
        typeof step === "number" && Number.isFinite(step)
          ? step
          : series.x.length > 0
            ? series.x[series.x.length - 1] + 1
            : 0;
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
