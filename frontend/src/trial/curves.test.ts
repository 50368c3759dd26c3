import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { Charts } from "./charts";
import { MetricSeries, overlayData, ratioText, standingOf, type Overlay } from "./series";
import type { SocketLike } from "./live";
import { mountSubmissionView } from "./submission_view";

const MEDIAN: Overlay = { name: "loss", steps: [1, 2, 3], values: [3, 1.5, 0.75] };
const MEDIAN_ANSWER = { name: "loss", steps: [1, 2, 3], median: [3, 1.5, 0.75] }; // as the API gives it

function run(points: [number, Record<string, number>][]): MetricSeries {
  const series = new MetricSeries();
  for (const [step, metrics] of points) series.add({ step, metrics });
  return series;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  await new Promise((resolve) => window.requestAnimationFrame(() => resolve(undefined)));
}

describe("the curves to compare against beside a run", () => {
  it("aligns the run and the median on the union of their steps, a missing point null", () => {
    const series = run([[2, { loss: 2 }], [2, { loss: 1.8 }], [4, { loss: 1 }]]).get("loss");
    expect(overlayData(series!, MEDIAN)).toEqual([[1, 2, 3, 4], [null, 1.8, null, 1], [3, 1.5, 0.75, null]]);
    const reference: Overlay = { name: "loss", steps: [5], values: [0.1] };
    expect(overlayData(series!, MEDIAN, reference)[3]).toEqual([null, null, null, null, 0.1]);
  });

  it("says where the run stands at the last step both have, loss first", () => {
    const mine = run([[1, { accuracy: 0.5, loss: 3 }], [2, { accuracy: 0.6, loss: 2.5 }], [3, { accuracy: 0.7, loss: 1.575 }]]);
    const standing = standingOf(mine, [{ name: "accuracy", steps: [1, 2, 3], values: [0.6, 0.7, 0.8] }, MEDIAN]);
    expect(standing?.metric).toBe("loss");
    expect(standing?.step).toBe(3);
    expect(ratioText(standing!.ratio)).toBe("2.1");
    // no shared step, or a zero median: nothing to say
    expect(standingOf(run([[9, { loss: 1 }]]), [MEDIAN])).toBeNull();
    expect(standingOf(run([[1, { loss: 1 }]]), [{ name: "loss", steps: [1], values: [0] }])).toBeNull();
    expect(ratioText(0.8512)).toBe("0.85");
    expect(ratioText(12.4)).toBe("12");
  });

  it("marks each chart with a median and lets the student hide it", async () => {
    document.documentElement.lang = "en";
    document.body.innerHTML = '<div id="charts"></div>';
    const box = document.getElementById("charts") as HTMLElement;
    const charts = new Charts(box);
    charts.add({ step: 1, metrics: { loss: 2, accuracy: 0.4 } });
    charts.setOverlays([MEDIAN], "cohort median (5 passed runs)");
    await settle();
    const loss = box.querySelector<HTMLElement>("[data-metric=loss]");
    expect(loss?.dataset.overlay).toBe("cohort-median");
    expect(loss?.querySelector("figcaption")?.textContent).toContain("cohort median (5 passed runs)");
    expect(box.querySelector<HTMLElement>("[data-metric=accuracy]")?.dataset.overlay).toBeUndefined();
    const toggle = box.querySelector<HTMLInputElement>("[data-testid=overlay-toggle]") as HTMLInputElement;
    expect(toggle.checked).toBe(true);
    toggle.checked = false;
    toggle.dispatchEvent(new Event("change"));
    await settle();
    expect(loss?.dataset.overlay).toBeUndefined();
    expect(charts.overlaysOf("loss")).toEqual([]);
  });
});

class FakeSocket implements SocketLike {
  onopen: SocketLike["onopen"] = null;
  onmessage: SocketLike["onmessage"] = null;
  onclose: SocketLike["onclose"] = null;
  onerror: SocketLike["onerror"] = null;
  close(): void {}
  event(seq: number, kind: string, payload: unknown): void {
    this.onmessage?.({ data: JSON.stringify({ type: "event", seq, kind, payload, time: 0 }) });
  }
}

describe("a finished run's view with the cohort's curves", () => {
  const DONE = { id: 8, exercise: "train-loop", mode: "submit", status: "done", verdict: "failed", score: 50,
    checks: [], resources: {}, device: "cpu", message: {}, traceback: "", artifacts: [] };
  const urls: string[] = [];

  beforeEach(() => {
    document.documentElement.lang = "en";
    document.body.innerHTML = '<div id="view"></div>';
    urls.length = 0;
    vi.stubGlobal("fetch", vi.fn(async (url: string) => {
      urls.push(url);
      const body = url.includes("/curves/")
        ? { cohort: { id: 1, name: "A" }, runs: 5, min_runs: 5, available: true, series: [MEDIAN_ANSWER],
            reference: [{ name: "loss", steps: [1, 2, 3], values: [2, 1, 0.45] }] }
        : DONE;
      return new Response(JSON.stringify(body), { status: 200 });
    }));
  });
  afterEach(() => vi.unstubAllGlobals());

  it("overlays the median and says where the run stands once its log has replayed", async () => {
    const socket = new FakeSocket();
    const element = document.getElementById("view") as HTMLElement;
    const view = mountSubmissionView(element, 8, { live: { baseUrl: "ws://test", socketFactory: () => socket } });
    await settle();
    expect(urls).toContain("/api/v1/exercises/train-loop/curves/");
    socket.onopen?.({});
    socket.event(1, "metric", { step: 1, metrics: { loss: 3 } });
    socket.event(2, "metric", { step: 2, metrics: { loss: 2.5 } });
    socket.event(3, "metric", { step: 3, metrics: { loss: 1.575 } });
    socket.event(4, "status", { status: "done", verdict: "failed", score: 50 });
    await settle();
    view.stop();
    expect([...element.querySelectorAll("[data-testid=standing]")].map((line) => line.textContent)).toEqual([
      "At step 3, this run's loss is 2.1× the cohort median (5 passed runs).",
      "At step 3, this run's loss is 3.5× the reference solution's.",
    ]);
    expect(element.querySelector<HTMLElement>("[data-metric=loss]")?.dataset.overlay).toBe("cohort-median reference");
  });

  it("says nothing when the platform has no curve for the cohort", async () => {
    vi.stubGlobal("fetch", vi.fn(async (url: string) => new Response(JSON.stringify(
      url.includes("/curves/") ? { cohort: null, runs: 0, min_runs: 5, available: false, series: [], reference: [] } : DONE),
      { status: 200 })));
    const socket = new FakeSocket();
    const element = document.getElementById("view") as HTMLElement;
    const view = mountSubmissionView(element, 8, { live: { baseUrl: "ws://test", socketFactory: () => socket } });
    await settle();
    socket.onopen?.({});
    socket.event(1, "metric", { step: 3, metrics: { loss: 1.575 } });
    socket.event(2, "status", { status: "done", verdict: "failed", score: 50 });
    await settle();
    view.stop();
    expect(element.querySelector("[data-testid=standing]")).toBeNull();
    expect(element.querySelector("[data-testid=overlay-toggle]")).toBeNull();
  });
});
