import { describe, expect, it } from "vitest";

import { chartData, MetricSeries } from "./series";

describe("MetricSeries", () => {
  it("builds one series per metric name with the reported steps as x", () => {
    const series = new MetricSeries();
    expect(series.add({ step: 1, metrics: { loss: 0.9, accuracy: 0.5 } })).toEqual(["loss", "accuracy"]);
    series.add({ step: 2, metrics: { loss: 0.7 } });
    expect(series.names).toEqual(["loss", "accuracy"]);
    expect(series.get("loss")).toEqual({ name: "loss", x: [1, 2], y: [0.9, 0.7] });
    expect(series.get("accuracy")).toEqual({ name: "accuracy", x: [1], y: [0.5] });
  });

  it("counts steps per metric when the code reports none", () => {
    const series = new MetricSeries();
    series.add({ step: null, metrics: { lr: 0.1 } });
    series.add({ metrics: { lr: 0.05 } });
    series.add({ step: 10, metrics: { lr: 0.01 } });
    series.add({ step: null, metrics: { lr: 0.001 } });
    expect(series.get("lr")?.x).toEqual([0, 1, 10, 11]);
  });

  it("ignores non-numbers, NaN (null on the wire) and malformed payloads", () => {
    const series = new MetricSeries();
    expect(series.add({ step: 1, metrics: { loss: null, name: "x" } })).toEqual([]);
    expect(series.add("nonsense")).toEqual([]);
    expect(series.add({ step: 1 })).toEqual([]);
    expect(series.names).toEqual([]);
  });

  it("gives uPlot x in ascending order", () => {
    expect(chartData({ name: "loss", x: [2, 0, 1], y: [0.2, 1, 0.5] })).toEqual([
      [0, 1, 2],
      [1, 0.5, 0.2],
    ]);
  });
});
