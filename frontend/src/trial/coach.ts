// The coach in the editor: while the student types (debounced by CodeMirror's linter), the code goes to
// POST /api/v1/exercises/<slug>/analyze/; each finding becomes a lint mark whose tooltip says why it is wrong
// in PyTorch and which trial teaches it, and the same findings are listed under the editor. Advice only:
// nothing here touches a score. Text reaches the page only through textContent.

import { type Diagnostic, linter, lintGutter } from "@codemirror/lint";
import { StateEffect, type Text } from "@codemirror/state";
import { EditorView } from "@codemirror/view";

import "./coach.css";

import { api } from "./api";
import { type Language, pageLanguage, pick } from "./i18n";

export interface Bilingual {
  zh: string;
  en: string;
}

export interface CoachFinding {
  rule: string;
  severity: "warning" | "info";
  line: number; // 1-based
  column: number; // 0-based, code points
  end_line: number;
  end_column: number;
  title: Bilingual;
  why: Bilingual;
  trial: { slug: string; title: Bilingual | null; url: string };
}

export interface CoachAnswer {
  findings: CoachFinding[];
  parse_error: { line: number; column: number; message: string } | null;
  complete: boolean;
}

const strings = {
  zh: {
    heading: "教练的提示",
    none: "没有发现常见的 PyTorch 错误。",
    parseError: "第 {line} 行无法解析：{message}（修正后教练才能继续分析）",
    incomplete: "代码太长，教练只分析了一部分。",
    learn: "学习：{trial}",
    unavailable: "教练暂时无法分析：{message}",
    line: "第 {line} 行",
    advice: "这些只是建议，不影响得分。",
  },
  en: {
    heading: "Coach's notes",
    none: "No common PyTorch mistakes found.",
    parseError: "Line {line} does not parse: {message} (the coach reads on once it is fixed)",
    incomplete: "The code is long: the coach read only part of it.",
    learn: "Learn it in: {trial}",
    unavailable: "The coach could not read the code: {message}",
    line: "Line {line}",
    advice: "Advice only: it never changes a score.",
  },
} as const;

type Key = keyof (typeof strings)["en"];

function say(key: Key, language: Language, params: Record<string, string | number> = {}): string {
  return strings[language][key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** The document offset of a 1-based line and a column counted in code points (the API's unit). */
export function offsetOf(doc: Text, line: number, column: number): number {
  const number = Math.min(Math.max(1, line), doc.lines);
  const text = doc.line(number);
  const units = Array.from(text.text).slice(0, Math.max(0, column)).join("").length;
  return text.from + Math.min(units, text.length);
}

function trialName(finding: CoachFinding, language: Language): string {
  return finding.trial.title ? pick(finding.trial.title, language) : finding.trial.slug;
}

function explanation(finding: CoachFinding, language: Language): HTMLElement {
  const box = document.createElement("div");
  box.className = "coach-note";
  box.dataset.rule = finding.rule;
  const title = document.createElement("strong");
  title.textContent = pick(finding.title, language);
  const why = document.createElement("p");
  why.textContent = pick(finding.why, language);
  const link = document.createElement("a");
  link.href = finding.trial.url;
  link.textContent = say("learn", language, { trial: trialName(finding, language) });
  box.append(title, why, link);
  return box;
}

/** The lint marks for an answer of the coach on `doc`. */
export function toDiagnostics(doc: Text, answer: CoachAnswer, language: Language = pageLanguage()): Diagnostic[] {
  if (answer.parse_error !== null) {
    const from = offsetOf(doc, answer.parse_error.line, answer.parse_error.column);
    return [
      {
        from,
        to: Math.min(doc.length, Math.max(from, doc.lineAt(from).to)),
        severity: "error",
        source: "coach",
        message: say("parseError", language, answer.parse_error),
      },
    ];
  }
  return answer.findings.map((finding) => {
    const from = offsetOf(doc, finding.line, finding.column);
    const to = Math.max(from, offsetOf(doc, finding.end_line, finding.end_column));
    return {
      from,
      to,
      severity: finding.severity,
      source: "coach",
      message: `${pick(finding.title, language)}: ${pick(finding.why, language)}`,
      renderMessage: () => explanation(finding, language),
    };
  });
}

/** The list under the editor: one item per finding (line, title, why, the trial), or why there is none. */
export function renderFindings(
  list: HTMLElement,
  answer: CoachAnswer | { error: string },
  language: Language = pageLanguage(),
  onPick: (finding: CoachFinding) => void = () => undefined,
): void {
  const heading = document.createElement("h3");
  heading.textContent = say("heading", language);
  const items = document.createElement("ul");
  const note = document.createElement("p");
  note.className = "coach-status";
  if ("error" in answer) {
    note.textContent = say("unavailable", language, { message: answer.error });
  } else if (answer.parse_error !== null) {
    note.textContent = say("parseError", language, answer.parse_error);
  } else if (answer.findings.length === 0) {
    note.textContent = say("none", language);
  } else {
    note.textContent = say("advice", language);
    for (const finding of answer.findings) {
      const item = document.createElement("li");
      item.dataset.rule = finding.rule;
      item.dataset.severity = finding.severity;
      const where = document.createElement("button");
      where.type = "button";
      where.className = "coach-line";
      where.textContent = say("line", language, { line: finding.line });
      where.addEventListener("click", () => onPick(finding));
      item.append(where, explanation(finding, language));
      items.append(item);
    }
    if (!answer.complete) {
      const more = document.createElement("li");
      more.textContent = say("incomplete", language);
      items.append(more);
    }
  }
  list.replaceChildren(heading, note, items);
}

const DEBOUNCE_MS = 800;

/** Adds the coach to the trial page's editor (found from its DOM) and a list of findings below it. */
export function mountCoach(editorBox: HTMLElement, url: string, language: Language = pageLanguage()): void {
  const element = editorBox.querySelector<HTMLElement>(".cm-editor");
  const view = element === null ? null : EditorView.findFromDOM(element);
  if (view === null) return;
  const list = document.createElement("section");
  list.className = "coach";
  list.dataset.testid = "coach";
  list.setAttribute("aria-live", "polite");
  editorBox.after(list);
  const jump = (finding: CoachFinding): void => {
    const at = offsetOf(view.state.doc, finding.line, finding.column);
    view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
    view.focus();
  };
  const source = async (current: EditorView): Promise<Diagnostic[]> => {
    const doc = current.state.doc;
    const result = await api<CoachAnswer>(url, { method: "POST", body: { code: doc.toString() } });
    if (!result.ok || result.data === null) {
      renderFindings(list, { error: result.error?.message ?? "" }, language);
      return [];
    }
    renderFindings(list, result.data, language, jump);
    return toDiagnostics(doc, result.data, language);
  };
  view.dispatch({
    effects: StateEffect.appendConfig.of([linter(source, { delay: DEBOUNCE_MS }), lintGutter()]),
  });
}
