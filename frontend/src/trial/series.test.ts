import { describe, expect, it } from "vitest";

import { chartData, MetricSeries, overlayData, runCount } from "./series";

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

describe("a trial that trains once per seed", () => {
  it("keeps each training run as its own line, never one zig-zag", () => {
    const runs = new MetricSeries();
    for (const step of [0, 1, 2]) runs.add({ step, metrics: { loss: 1 - step / 10 } });
    for (const step of [0, 1, 2]) runs.add({ step, metrics: { loss: 2 - step / 10 } });
    const loss = runs.get("loss")!;
    expect(runCount(loss)).toBe(2);
    expect(overlayData(loss)).toEqual([
      [0, 1, 2],
      [1, 0.9, 0.8],
      [2, 1.9, 1.8],
    ]);
  });

  it("does not take a step reported out of order for a new run", () => {
    const runs = new MetricSeries();
    for (const step of [0, 5, 3, 6]) runs.add({ step, metrics: { loss: step } });
    expect(runCount(runs.get("loss")!)).toBe(1);
    expect(overlayData(runs.get("loss")!)).toEqual([[0, 3, 5, 6], [0, 3, 5, 6]]);
  });

  it("puts the overlays after the runs", () => {
    const runs = new MetricSeries();
    for (const [step, loss] of [[1, 1], [2, 0.9], [1, 2], [2, 1.9]]) runs.add({ step, metrics: { loss } });
    const data = overlayData(runs.get("loss")!, { name: "loss", steps: [2, 3], values: [1.5, 1.4] });
    expect(data).toEqual([[1, 2, 3], [1, 0.9, null], [2, 1.9, null], [null, 1.5, 1.4]]);
  });

  it("takes a step reported twice before the run moved on for the same run (its last value)", () => {
    const runs = new MetricSeries();
    for (const [step, loss] of [[2, 2], [2, 1.8], [4, 1]]) runs.add({ step, metrics: { loss } });
    expect(runCount(runs.get("loss")!)).toBe(1);
    expect(overlayData(runs.get("loss")!)).toEqual([[2, 4], [1.8, 1]]);
  });
});
