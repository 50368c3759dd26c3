import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { SocketLike } from "./live";
import { mountSubmissionIslands, mountSubmissionView } from "./submission_view";

class FakeSocket implements SocketLike {
  onopen: SocketLike["onopen"] = null;
  onmessage: SocketLike["onmessage"] = null;
  onclose: SocketLike["onclose"] = null;
  onerror: SocketLike["onerror"] = null;
  constructor(readonly url: string) {}
  close(): void {}
  event(seq: number, kind: string, payload: unknown): void {
    this.onmessage?.({ data: JSON.stringify({ type: "event", seq, kind, payload, time: 0 }) });
  }
}

const RUNNING = { id: 5, exercise: "t", mode: "run", status: "running", verdict: "", score: null, checks: [],
  resources: {}, device: "", message: {}, traceback: "", artifacts: [] };
const DONE = { ...RUNNING, status: "done", verdict: "passed", score: 100,
  checks: [{ key: "shape", passed: true, score: 1, max_score: 1, title: { zh: "形状", en: "Shape" }, message: { zh: "", en: "" } }] };

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  // Charts draw on the next animation frame; a frame asked for now runs after the one they asked for.
  await new Promise((resolve) => window.requestAnimationFrame(() => resolve(undefined)));
}

describe("mountSubmissionView", () => {
  let answers: unknown[];

  beforeEach(() => {
    document.documentElement.lang = "en";
    document.body.innerHTML = '<div id="view"></div>';
    answers = [RUNNING, DONE];
    // The submission's answers in turn; the cohort curves (asked once the trial is known) are not there yet.
    vi.stubGlobal("fetch", vi.fn(async (url: string) => new Response(
      JSON.stringify(String(url).includes("/curves/") ? { available: false, runs: 0, series: [] } : answers.shift()),
      { status: 200 })));
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("streams the log, survives a reconnect without loss or repeats, then shows the verdict", async () => {
    const sockets: FakeSocket[] = [];
    const scheduled: (() => void)[] = [];
    const element = document.getElementById("view") as HTMLElement;
    mountSubmissionView(element, 5, {
      live: {
        baseUrl: "ws://test",
        socketFactory: (url) => {
          const socket = new FakeSocket(url);
          sockets.push(socket);
          return socket;
        },
        schedule: (callback) => scheduled.push(callback),
      },
    });
    await settle();
    const socket = sockets[0];
    socket.onopen?.({});
    expect(document.body.dataset.live).toBe("open");
    socket.event(1, "status", { status: "running", device: "cpu" });
    expect(element.querySelector("[data-testid=status]")?.textContent).toBe("Running on CPU…");
    socket.event(2, "stdout", "line 1\nline 2\n");
    socket.event(3, "metric", { step: 1, metrics: { loss: 0.5 } });
    socket.onclose?.({ code: 1006 });
    expect(document.body.dataset.live).toBe("closed");
    expect(element.querySelector("[data-testid=status]")?.textContent).toBe("Connection lost, reconnecting…");
    scheduled.shift()?.();
    const again = sockets[1];
    expect(again.url).toBe("ws://test/ws/submissions/5/?after=3&batch=1");
    again.onopen?.({});
    expect(element.querySelector("[data-testid=status]")?.textContent).toBe("Running on CPU…");
    again.event(2, "stdout", "line 1\nline 2\n"); // replayed: dropped
    again.event(4, "stderr", "<b>line 3</b>\n");
    again.event(5, "status", { status: "done", verdict: "passed", score: 100 });
    again.onclose?.({ code: 1000 });
    await settle();

    const lines = [...element.querySelectorAll<HTMLElement>("[data-testid=terminal] [data-seq]")];
    expect(lines.map((line) => [line.dataset.seq, line.textContent])).toEqual([
      ["2", "line 1"],
      ["2", "line 2"],
      ["4", "<b>line 3</b>"],
    ]);
    expect(element.querySelector("[data-testid=terminal] b")).toBeNull();
    expect(element.querySelector("[data-testid=charts] [data-testid=chart][data-metric=loss]")).not.toBeNull();
    expect(element.querySelector("[data-testid=verdict]")?.getAttribute("data-verdict")).toBe("passed");
    expect(element.querySelector("[data-testid=status]")?.textContent).toBe("Passed");
    expect(element.querySelector("[data-testid=checks] li[data-check=shape]")?.getAttribute("data-passed")).toBe("true");
  });

  it("counts the seconds while it runs, then puts the checks first and folds the log of a failed run", async () => {
    const FAILED = { ...DONE, verdict: "failed", score: 0,
      checks: [{ key: "shape", passed: false, score: 0, max_score: 1, title: { zh: "形状", en: "Shape" }, message: { zh: "错", en: "wrong" } }] };
    answers = [RUNNING, FAILED];
    const sockets: FakeSocket[] = [];
    const element = document.getElementById("view") as HTMLElement;
    let now = 1_000_000;
    const clock = vi.spyOn(Date, "now").mockImplementation(() => now);
    const ticks: (() => void)[] = [];
    const realSetInterval = window.setInterval.bind(window);
    // The view's once-a-second clock is driven by hand; jsdom's animation frames keep their own timer.
    const interval = vi.spyOn(window, "setInterval").mockImplementation(((callback: () => void, delay?: number) => {
      if (delay !== 1000) return realSetInterval(callback, delay);
      ticks.push(callback);
      return 10_000 + ticks.length;
    }) as typeof window.setInterval);
    const advance = (ms: number): void => {
      now += ms;
      for (const tick of ticks) tick();
    };
    try {
      mountSubmissionView(element, 5, {
        live: { baseUrl: "ws://test", socketFactory: (url) => (sockets.push(new FakeSocket(url)), sockets[sockets.length - 1]) },
      });
      await settle();
      sockets[0].onopen?.({});
      sockets[0].event(1, "status", { status: "running", device: "cpu" });
      const status = element.querySelector("[data-testid=status]");
      expect(status?.textContent).toBe("Running on CPU…");
      advance(3000);
      expect(status?.textContent).toBe("Running on CPU… 3 s");
      const log = element.querySelector<HTMLDetailsElement>("[data-testid=log]");
      expect(log?.open).toBe(true); // the log is what there is to watch while it runs
      sockets[0].event(2, "stderr", "Traceback (most recent call last):\nValueError: x\n");
      sockets[0].event(3, "status", { status: "done", verdict: "failed", score: 0 });
      await settle();
      advance(3000);
      expect(status?.textContent).toBe("Not passed"); // the clock stopped with the run
      expect(log?.open).toBe(false);
      const feedback = element.querySelector(".feedback");
      expect(feedback?.compareDocumentPosition(log as Node)).toBe(Node.DOCUMENT_POSITION_FOLLOWING);
    } finally {
      clock.mockRestore();
      interval.mockRestore();
    }
  });

  it("says so when the submission is not found", async () => {
    answers = [];
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ error: { code: "not_found", message: "Not found.", field: null } }), { status: 404 })));
    const element = document.getElementById("view") as HTMLElement;
    mountSubmissionView(element, 99, { live: { socketFactory: () => new FakeSocket("x") } });
    await settle();
    expect(element.querySelector("[data-testid=status]")?.textContent).toBe("This submission was not found.");
  });

  it("mounts every submission island on a page once, and skips bad ids", async () => {
    document.body.innerHTML =
      '<div data-island="submission" data-submission-id="5"></div><div data-island="submission" data-submission-id="x"></div>';
    const sockets: string[] = [];
    vi.stubGlobal("WebSocket", function (this: unknown, url: string) {
      sockets.push(url);
      return { close: () => undefined };
    });
    mountSubmissionIslands(document);
    mountSubmissionIslands(document);
    await settle();
    const [good, bad] = [...document.querySelectorAll<HTMLElement>('[data-island="submission"]')];
    expect(good.dataset.mounted).toBe("1");
    expect(good.querySelector("[data-testid=terminal]")).not.toBeNull();
    expect(bad.dataset.mounted).toBeUndefined();
    expect(sockets).toHaveLength(1);
    expect(sockets[0]).toMatch(/\/ws\/submissions\/5\/\?after=0&batch=1$/);
  });
});
