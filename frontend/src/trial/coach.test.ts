import { Text } from "@codemirror/state";
import { describe, expect, it } from "vitest";

import { type CoachAnswer, offsetOf, renderFindings, toDiagnostics } from "./coach";

const code = "import torch\n说明 = 1; x = torch.load('m.pt')\n";
const doc = Text.of(code.split("\n"));

const answer: CoachAnswer = {
  findings: [
    {
      rule: "torch-load-weights-only",
      severity: "warning",
      line: 2,
      column: 12,
      end_line: 2,
      end_column: 30,
      title: { zh: "torch.load 没有写 weights_only", en: "torch.load without weights_only" },
      why: { zh: "torch.load 底层是 pickle。", en: "torch.load is pickle underneath." },
      trial: { slug: "export", title: { zh: "导出", en: "Export" }, url: "/trials/export/" },
    },
  ],
  parse_error: null,
  complete: true,
};

describe("the coach's marks", () => {
  it("turns code-point columns into document offsets", () => {
    // "说明" is two code points and two UTF-16 units; an emoji is one code point and two units
    expect(offsetOf(doc, 2, 12)).toBe(code.indexOf("torch.load"));
    const emoji = Text.of(["s = '😀'; y = 1"]);
    expect(offsetOf(emoji, 1, 9)).toBe("s = '😀'; y = 1".indexOf("y"));
    expect(offsetOf(doc, 99, 0)).toBe(doc.line(doc.lines).from);
  });

  it("marks the finding's range with its explanation and trial", () => {
    const [mark] = toDiagnostics(doc, answer, "en");
    expect(code.slice(mark.from, mark.to)).toBe("torch.load('m.pt')");
    expect(mark.severity).toBe("warning");
    expect(mark.message).toContain("torch.load is pickle underneath.");
    const tooltip = mark.renderMessage?.(undefined as never) as HTMLElement;
    expect(tooltip.querySelector("a")?.getAttribute("href")).toBe("/trials/export/");
    expect(tooltip.textContent).toContain("Export");
  });

  it("marks a parse error as an error on its line, in Chinese by default", () => {
    const [mark] = toDiagnostics(doc, { findings: [], parse_error: { line: 1, column: 0, message: "invalid syntax" }, complete: true }, "zh");
    expect(mark.severity).toBe("error");
    expect(mark.message).toContain("第 1 行");
  });
});

describe("the list under the editor", () => {
  it("lists each finding with its line, why and trial, as text only", () => {
    const list = document.createElement("section");
    const hostile = structuredClone(answer);
    hostile.findings[0].why.en = "<img src=x onerror=alert(1)>";
    let picked = "";
    renderFindings(list, hostile, "en", (finding) => (picked = finding.rule));
    const item = list.querySelector("li[data-rule='torch-load-weights-only']") as HTMLElement;
    expect(item.textContent).toContain("Line 2");
    expect(item.textContent).toContain("<img src=x onerror=alert(1)>");
    expect(list.querySelector("img")).toBeNull();
    (item.querySelector("button") as HTMLButtonElement).click();
    expect(picked).toBe("torch-load-weights-only");
  });

  it("says so when there is nothing to say, when the code does not parse and when the coach is away", () => {
    const list = document.createElement("section");
    renderFindings(list, { findings: [], parse_error: null, complete: true }, "zh");
    expect(list.textContent).toContain("没有发现常见的 PyTorch 错误");
    renderFindings(list, { findings: [], parse_error: { line: 3, column: 1, message: "invalid syntax" }, complete: true }, "en");
    expect(list.textContent).toContain("Line 3 does not parse");
    renderFindings(list, { error: "Too many analyses" }, "en");
    expect(list.textContent).toContain("Too many analyses");
    expect(list.querySelectorAll("li")).toHaveLength(0);
  });
});
