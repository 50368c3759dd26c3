import { beforeEach, describe, expect, it } from "vitest";

import { renderFeedback, resourceRows, type SubmissionDetail } from "./feedback";

function detail(overrides: Partial<SubmissionDetail> = {}): SubmissionDetail {
  return {
    id: 3,
    exercise: "tensor-basics",
    mode: "submit",
    status: "done",
    verdict: "failed",
    score: 60,
    checks: [
      { key: "shape", passed: true, score: 20, max_score: 20, title: { zh: "形状", en: "Shape" }, message: { zh: "对", en: "Right" } },
      { key: "dtype", passed: false, score: 0, max_score: 20, title: { zh: "类型", en: "Dtype" },
        message: { zh: "<img src=x onerror=alert(1)> 错", en: "<img src=x onerror=alert(1)> wrong" } },
    ],
    resources: { wall_seconds: 2.456, cpu_seconds: 1.5, peak_memory_mb: 280.04, peak_gpu_memory_mb: 512 },
    device: "cuda",
    message: { zh: "有检查未通过。", en: "Some checks failed." },
    traceback: "",
    artifacts: [],
    ...overrides,
  };
}

describe("renderFeedback", () => {
  let box: HTMLElement;

  beforeEach(() => {
    document.documentElement.lang = "en";
    document.body.innerHTML = "";
    box = document.createElement("section");
    document.body.append(box);
  });

  it("shows the verdict with its plain explanation", () => {
    renderFeedback(box, detail());
    const verdict = box.querySelector<HTMLElement>("[data-testid=verdict]");
    expect(verdict?.dataset.verdict).toBe("failed");
    expect(verdict?.textContent).toContain("Not passed");
    expect(verdict?.textContent).toContain("Some checks failed.");
  });

  it("lists the checks in order, with their messages as text", () => {
    renderFeedback(box, detail());
    const items = [...box.querySelectorAll<HTMLElement>("[data-testid=checks] li")];
    expect(items.map((item) => [item.dataset.check, item.dataset.passed])).toEqual([
      ["shape", "true"],
      ["dtype", "false"],
    ]);
    expect(items[1].textContent).toContain("<img src=x onerror=alert(1)> wrong");
    expect(box.querySelector("img")).toBeNull();
  });

  it("says a reason shared by several checks once, with how many share it", () => {
    const before = { zh: "你的代码在这项检查运行之前就出错了。", en: "Your code raised an error before this check could run." };
    const check = (key: string) => ({ key, passed: false, score: 0, max_score: 20, title: { zh: key, en: key }, message: before });
    renderFeedback(box, detail({ verdict: "error", checks: ["a", "b", "c"].map(check) }));
    const messages = [...box.querySelectorAll<HTMLElement>("[data-testid=checks] li .check-message")];
    expect(messages.map((m) => m.textContent)).toEqual([
      "Your code raised an error before this check could run. (the same reason for 2 more below)",
      "Same reason as above.",
      "Same reason as above.",
    ]);
    expect(box.textContent?.split(before.en)).toHaveLength(2); // the sentence itself appears once
  });

  it("speaks Chinese on a Chinese page", () => {
    document.documentElement.lang = "zh-Hans";
    renderFeedback(box, detail());
    expect(box.querySelector("[data-testid=verdict]")?.textContent).toContain("未通过");
    expect(box.querySelector("[data-testid=checks] li")?.textContent).toContain("形状");
  });

  it("shows the traceback and resources, including peak GPU memory", () => {
    renderFeedback(box, detail({ verdict: "error", traceback: "Traceback (most recent call last):\n  <boom>" }));
    expect(box.querySelector("[data-testid=traceback]")?.textContent).toBe("Traceback (most recent call last):\n  <boom>");
    expect(resourceRows(detail())).toEqual([
      ["Time", "2.46 s"],
      ["CPU time", "1.50 s"],
      ["Peak memory", "280.0 MB"],
      ["Device", "CUDA"],
      ["Peak GPU memory", "512.0 MB"],
    ]);
    expect(box.querySelector("[data-testid=resources]")?.textContent).toContain("Peak GPU memory");
  });

  it("shows PNG artifacts as images and drops anything else", () => {
    renderFeedback(
      box,
      detail({
        artifacts: [
          { name: "gradcam.png", media_type: "image/png", data: "iVBORw0KGgo=" },
          { name: "evil.svg", media_type: "image/svg+xml", data: "PHN2Zz4=" },
          { name: "bad.png", media_type: "image/png", data: '"><script>' },
        ],
      }),
    );
    const images = [...box.querySelectorAll<HTMLImageElement>("[data-testid=artifacts] img")];
    expect(images.map((image) => image.alt)).toEqual(["gradcam.png"]);
    expect(images[0].src).toBe("data:image/png;base64,iVBORw0KGgo=");
  });

  it("says when no checks ran", () => {
    renderFeedback(box, detail({ checks: [], verdict: "internal_error" }));
    expect(box.querySelector("[data-testid=checks]")?.textContent).toContain("No checks ran.");
    expect(box.querySelector("[data-testid=verdict]")?.textContent).toContain("Platform error");
  });
});
