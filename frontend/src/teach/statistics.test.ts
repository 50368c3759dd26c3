import { describe, expect, it } from "vitest";

import { chartOptions, countRange, dayLabel, everyDay } from "./statistics";

const DAY = 86_400;

describe("the submissions-per-day chart", () => {
  it("covers every day from the first to the last, a missing day counted zero", () => {
    const [xs, counts] = everyDay({ days: ["2026-03-01", "2026-03-04"], counts: [3, 1], buckets: [] });
    const first = Date.parse("2026-03-01T00:00:00Z") / 1000;
    expect(xs).toEqual([first, first + DAY, first + 2 * DAY, first + 3 * DAY]);
    expect(counts).toEqual([3, 0, 0, 1]);
    expect(everyDay({ days: [], counts: [], buckets: [] })).toEqual([[], []]);
  });

  it("labels days in the page's language", () => {
    const day = Date.parse("2026-12-07T00:00:00Z") / 1000;
    expect(dayLabel(day, "zh-Hans")).toBe("12月7日");
    expect(dayLabel(day, "en")).toBe("Dec 7");
  });

  it("counts from zero in whole numbers, so one submission is a full bar", () => {
    expect(countRange([1])).toEqual([0, 1]);
    expect(countRange([0, 4, 2])).toEqual([0, 4]);
  });

  it("names both axes from the page and draws a single day as a bar in the middle", () => {
    const box = document.createElement("div");
    box.dataset.label = "提交次数";
    box.dataset.xLabel = "日期";
    const day = Date.parse("2026-12-07T00:00:00Z") / 1000;
    const options = chartOptions(box, [day], [1], "zh-Hans");
    expect(options.axes?.map((axis) => axis.label)).toEqual(["日期", "提交次数"]);
    const range = options.scales?.x?.range as () => [number, number];
    const [low, high] = range();
    expect((low + high) / 2).toBe(day);
    const series = options.series[1];
    expect(series.fill).toBe(series.stroke);
    expect(series.paths).toBeTypeOf("function");
    const values = options.axes?.[1].values as (u: unknown, splits: number[]) => string[];
    expect(values(null, [0, 0.5, 1])).toEqual(["0", "", "1"]);
  });
});
