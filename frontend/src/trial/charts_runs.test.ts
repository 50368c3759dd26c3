import { describe, expect, it } from "vitest";

import { Charts } from "./charts";

function frame(): Promise<void> {
  return new Promise((resolve) => window.requestAnimationFrame(() => resolve()));
}

describe("the live chart of a trial that trains once per seed", () => {
  it("draws one line per training run and says which colour is which", async () => {
    document.documentElement.lang = "zh-Hans";
    const box = document.createElement("div");
    document.body.append(box);
    const charts = new Charts(box);
    for (const step of [0, 1, 2]) charts.add({ step, metrics: { loss: 1 - step / 10 } });
    await frame();
    const figure = box.querySelector<HTMLElement>('[data-metric="loss"]')!;
    expect(figure.dataset.runs).toBe("1");
    expect(figure.querySelector(".runs-legend")).toBeNull();
    for (const step of [0, 1, 2]) charts.add({ step, metrics: { loss: 2 - step / 10 } });
    await frame();
    expect(figure.dataset.runs).toBe("2");
    expect(figure.dataset.points).toBe("6");
    const items = [...figure.querySelectorAll(".runs-legend span")].map((item) => item.textContent);
    expect(items).toEqual([" · ━ 第 1 次训练", " · ━ 第 2 次训练"]);
  });
});
