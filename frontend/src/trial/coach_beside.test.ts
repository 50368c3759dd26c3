import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { renderFeedback, type SubmissionDetail } from "./feedback";
import { placeBesideChecks, placeRuntime, type BesideFinding, type RuntimeDiagnosis } from "./coach_beside";
import { mountSubmissionView } from "./submission_view";

const SOFTMAX: BesideFinding = {
  rule: "softmax-before-cross-entropy",
  severity: "warning",
  line: 11,
  column: 15,
  end_line: 11,
  end_column: 50,
  title: { zh: "把 softmax 的输出交给了 CrossEntropyLoss", en: "softmax output fed to CrossEntropyLoss" },
  why: { zh: "要的是 logits。", en: "It expects <b>logits</b>." },
  trial: { slug: "custom-module", title: null, url: "/trials/custom-module/" },
  explains: ["logits"],
};

const FAILED: SubmissionDetail = {
  id: 7, exercise: "custom-module", mode: "submit", status: "done", verdict: "failed", score: 75,
  checks: [
    { key: "output-shape", passed: true, score: 1, max_score: 1, title: { zh: "形状", en: "Shape" }, message: {} },
    { key: "logits", passed: false, score: 0, max_score: 1, title: { zh: "分数", en: "Logits" },
      message: { zh: "分数不对。", en: "Wrong scores." } },
  ],
  resources: {}, device: "", message: {}, traceback: "", artifacts: [],
};

describe("the coach beside the failed checks", () => {
  beforeEach(() => {
    document.documentElement.lang = "en";
    document.body.innerHTML = '<section id="feedback"></section><div id="view"></div>';
  });
  afterEach(() => vi.unstubAllGlobals());

  it("places a finding under the failed check it explains, as text, and nowhere else", () => {
    const feedback = document.getElementById("feedback") as HTMLElement;
    renderFeedback(feedback, FAILED);
    expect(placeBesideChecks(feedback, [SOFTMAX, { ...SOFTMAX, rule: "other", explains: ["output-shape"] }])).toBe(1);
    const logits = feedback.querySelector('li[data-check="logits"]') as HTMLElement;
    const entry = logits.querySelector("[data-testid=check-coach] li") as HTMLElement;
    expect(entry.dataset.rule).toBe("softmax-before-cross-entropy");
    expect(entry.textContent).toContain("Line 11 · softmax output fed to CrossEntropyLoss");
    expect(entry.querySelector("b")).toBeNull(); // the why is text, never markup
    expect(entry.querySelector("a")?.getAttribute("href")).toBe("/trials/custom-module/");
    expect(feedback.querySelector('li[data-check="output-shape"] [data-testid=check-coach]')).toBeNull();
    // placing again replaces, never repeats
    placeBesideChecks(feedback, [SOFTMAX]);
    expect(logits.querySelectorAll("[data-testid=check-coach] li")).toHaveLength(1);
  });

  it("keeps a link on this site", () => {
    const feedback = document.getElementById("feedback") as HTMLElement;
    renderFeedback(feedback, FAILED);
    placeBesideChecks(feedback, [{ ...SOFTMAX, trial: { ...SOFTMAX.trial, url: "//evil.example/" } }]);
    expect(feedback.querySelector("[data-testid=check-coach] a")?.getAttribute("href")).toBe("#");
  });

  it("is said in Chinese on a Chinese page", () => {
    const feedback = document.getElementById("feedback") as HTMLElement;
    renderFeedback(feedback, FAILED);
    placeBesideChecks(feedback, [SOFTMAX], "zh");
    expect(feedback.querySelector("[data-testid=check-coach]")?.textContent).toContain("第 11 行 · 把 softmax");
  });

  it("the submission view asks the coach once a finished submission has a failed check", async () => {
    const urls: string[] = [];
    vi.stubGlobal("fetch", vi.fn(async (url: string) => {
      urls.push(url);
      const body = url.endsWith("/coach/") ? { findings: [SOFTMAX], parse_error: null, complete: true } : FAILED;
      return new Response(JSON.stringify(body), { status: 200 });
    }));
    const element = document.getElementById("view") as HTMLElement;
    const view = mountSubmissionView(element, 7, { live: { baseUrl: "ws://test", socketFactory: () => ({
      onopen: null, onmessage: null, onclose: null, onerror: null, close() {} }), schedule: () => undefined } });
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
    view.stop();
    expect(urls).toContain("/api/v1/submissions/7/coach/");
    const beside = element.querySelector('li[data-check="logits"] [data-testid=check-coach] li') as HTMLElement;
    expect(beside.dataset.rule).toBe("softmax-before-cross-entropy");
  });

  it("shows what the run says above the checks, as text, once", () => {
    const feedback = document.getElementById("feedback") as HTMLElement;
    renderFeedback(feedback, { ...FAILED, verdict: "error" });
    const device: RuntimeDiagnosis = {
      rule: "device-mismatch", line: 9,
      title: { zh: "张量不在同一设备上（cuda:0 和 cpu）", en: "Tensors on different devices (cuda:0 and cpu)" },
      why: { zh: "移到同一设备。", en: "Move them to <i>one</i> device." },
    };
    const nan: RuntimeDiagnosis = { ...device, rule: "non-finite-metric", line: null,
      title: { zh: "第 3 步起 loss 不再是有限数", en: "loss stopped being a finite number at step 3" } };
    expect(placeRuntime(feedback, [device, nan])).toBe(2);
    expect(placeRuntime(feedback, [device, nan])).toBe(2); // again: replaced, not repeated
    const box = feedback.querySelector("[data-testid=run-diagnoses]") as HTMLElement;
    expect(feedback.querySelectorAll("[data-testid=run-diagnoses]")).toHaveLength(1);
    expect(feedback.firstElementChild).toBe(box);
    const items = [...box.querySelectorAll("li")];
    expect(items.map((item) => item.dataset.rule)).toEqual(["device-mismatch", "non-finite-metric"]);
    expect(items[0].textContent).toContain("Line 9 · Tensors on different devices (cuda:0 and cpu)");
    expect(items[1].textContent).not.toContain("Line");
    expect(box.querySelector("i")).toBeNull();
    expect(placeRuntime(feedback, [])).toBe(0);
    expect(feedback.querySelector("[data-testid=run-diagnoses]")).toBeNull();
  });
});
