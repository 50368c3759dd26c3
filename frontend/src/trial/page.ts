// The trial page: editor with autosave, reset, Run/Submit, the live submission view, hints, reference.

import type { EditorView } from "@codemirror/view";

import { api } from "./api";
import { browserStorage, DraftKeeper } from "./draft";
import { createEditor, replaceDocument } from "./editor";
import type { SubmissionDetail } from "./feedback";
import { t } from "./i18n";
import { mountLayout } from "./layout";
import { mountSubmissionView, type SubmissionView } from "./submission_view";
import { showSyntaxError } from "./syntax_marker";
import { clockTime } from "../zone";

export interface TrialConfig {
  slug: string;
  language: "zh" | "en";
  starter: string;
  code: string;
  source: "draft" | "starter";
  hintCount: number;
  revealed: number;
  referenceAvailable: boolean;
  latestSubmission: number | null;
  /** This user's local copy of the draft (localStorage key), and the server draft's time (null: none). */
  draftKey: string;
  draftUpdatedAt: string | null;
  urls: { draft: string; hints: string; reference: string; submissions: string };
}

const AUTOSAVE_DELAY_MS = 1200;

function readConfig(root: HTMLElement): TrialConfig | null {
  const script = root.querySelector<HTMLScriptElement>("#trial-config");
  if (script === null || !script.textContent) return null;
  try {
    return JSON.parse(script.textContent) as TrialConfig;
  } catch {
    return null;
  }
}

function timeNow(): string {
  return clockTime(new Date(), document);
}

export function mountTrialPage(root: HTMLElement): void {
  const config = readConfig(root);
  const editorBox = root.querySelector<HTMLElement>('[data-testid="editor"]');
  const status = root.querySelector<HTMLElement>('[data-testid="status"]');
  const runView = root.querySelector<HTMLElement>('[data-role="run-view"]');
  const runButton = root.querySelector<HTMLButtonElement>('[data-testid="run"]');
  const submitButton = root.querySelector<HTMLButtonElement>('[data-testid="submit"]');
  const resetButton = root.querySelector<HTMLButtonElement>('[data-testid="reset"]');
  const saveState = root.querySelector<HTMLElement>('[data-role="save-state"]');
  if (!config || !editorBox || !status || !runView || !runButton || !submitButton || !resetButton) return;

  // --- editor and autosave --------------------------------------------------------------------------
  const fallback = editorBox.querySelector<HTMLTextAreaElement>("textarea");
  const serverCode = fallback?.value || config.code;

  const showSave = (text: string, state: string): void => {
    if (saveState === null) return;
    saveState.textContent = text;
    saveState.dataset.state = state;
  };

  const draft = new DraftKeeper({
    key: config.draftKey,
    storage: browserStorage(),
    serverCode,
    serverUpdatedAt: config.draftUpdatedAt,
    delay: AUTOSAVE_DELAY_MS,
    send: async (sending, keepalive) => {
      // keepalive: a save sent as the page goes away (pagehide) still reaches the server. Browsers cap a
      // keepalive body at 64 KiB; a larger draft stays in the local copy until the next load sends it.
      const result = await api<{ updated_at: string | null }>(config.urls.draft, {
        method: "PUT",
        body: { code: sending },
        keepalive: keepalive || sending.length < 16_000,
      });
      return { ok: result.ok, updatedAt: result.data?.updated_at, message: result.error?.message };
    },
    onState: (state, message) => {
      if (state === "saving") showSave(t("saving"), "saving");
      else if (state === "saved") showSave(t("saved", { time: timeNow() }), "saved");
      else if (state === "restored") showSave(t("draftRestored"), "restored");
      else showSave(t("saveFailed", { message: message ?? "" }), "error");
    },
  });

  const label = fallback?.getAttribute("aria-label") ?? "code";
  editorBox.replaceChildren();
  const view: EditorView = createEditor(editorBox, {
    doc: draft.current,
    label,
    onChange: (text) => draft.edit(text),
    onRun: () => void start("run"),
    onSubmit: () => void start("submit"),
  });
  window.addEventListener("pagehide", () => draft.flushOnExit());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") draft.flushOnExit();
  });

  resetButton.addEventListener("click", () => {
    if (!window.confirm(t("resetConfirm"))) return;
    replaceDocument(view, config.starter);
    void draft.flush();
    showSave(t("resetDone"), "reset");
    view.focus();
  });

  // --- run and submit -------------------------------------------------------------------------------
  let current: SubmissionView | null = null;
  let busy = false;
  const setBusy = (value: boolean): void => {
    busy = value;
    runButton.disabled = value;
    submitButton.disabled = value;
  };

  const reference = root.querySelector<HTMLElement>('[data-testid="reference"]');
  const onFinished = (detail: SubmissionDetail): void => {
    setBusy(false);
    if (detail.mode === "submit" && detail.verdict === "passed" && reference !== null) reference.hidden = false;
  };

  const start = async (mode: "run" | "submit"): Promise<void> => {
    if (busy) return;
    setBusy(true);
    // The last run's results go at once: nothing on screen may be mistaken for this run's verdict.
    current?.stop();
    current = null;
    runView.replaceChildren();
    status.removeAttribute("data-verdict");
    status.textContent = t("sending");
    status.dataset.state = "sending";
    // What the editor holds now, never the last saved draft.
    const code = view.state.doc.toString();
    // The draft first, then the submission: one write at a time (the embedded shape's SQLite takes one).
    await draft.flush();
    const result = await api<{ id: number }>(config.urls.submissions, {
      method: "POST",
      body: { exercise: config.slug, code, mode },
    });
    if (!result.ok || result.data === null) {
      setBusy(false);
      const error = result.error;
      if (error?.code === "syntax_error") {
        // Found before grading: no attempt counted; the editor marks the place.
        status.textContent = error.message;
        status.dataset.state = "syntax-error";
        if (typeof error.line === "number") {
          showSyntaxError(view, { line: error.line, column: error.column ?? null, message: error.message });
          view.focus();
        }
        return;
      }
      status.textContent = t("requestFailed", { message: error?.message ?? "" });
      status.dataset.state = "error";
      return;
    }
    current = mountSubmissionView(runView, result.data.id, {
      statusElement: status,
      onFinished,
      onGaveUp: () => setBusy(false),
    });
    status.scrollIntoView({ block: "nearest" });
  };

  runButton.addEventListener("click", () => void start("run"));
  submitButton.addEventListener("click", () => void start("submit"));

  // The last submission of this trial, so a reload shows where the student left off.
  if (config.latestSubmission !== null) {
    current = mountSubmissionView(runView, config.latestSubmission, {
      statusElement: status,
      onFinished: (detail) => onFinished(detail),
    });
  }

  mountHints(root, config);
  mountReference(root, config);
  mountLayout(root, { firstTab: config.source === "draft" ? "code" : "statement" });
}

function mountHints(root: HTMLElement, config: TrialConfig): void {
  const button = root.querySelector<HTMLButtonElement>('[data-testid="reveal-hint"]');
  const list = root.querySelector<HTMLElement>(".hint-list");
  const count = root.querySelector<HTMLElement>(".hint-count");
  if (button === null || list === null) return;
  let revealed = config.revealed;
  button.addEventListener("click", async () => {
    button.disabled = true;
    const result = await api<{ hint_count: number; revealed: { index: number; html: { zh: string; en: string } }[] }>(
      config.urls.hints,
      { method: "POST" },
    );
    if (!result.ok || result.data === null) {
      if (count !== null) count.textContent = result.error?.message ?? t("noMoreHints");
      button.disabled = result.status === 409;
      return;
    }
    for (const hint of result.data.revealed) {
      if (list.querySelector(`[data-index="${hint.index}"]`) !== null) continue;
      const item = document.createElement("li");
      item.className = "hint";
      item.dataset.testid = "hint";
      item.dataset.index = String(hint.index);
      // Rendered by the platform's escaping Markdown renderer (huashen.practice.markdown).
      item.innerHTML = config.language === "en" && hint.html.en ? hint.html.en : hint.html.zh;
      list.append(item);
      item.tabIndex = -1;
      item.focus();
    }
    revealed = result.data.revealed.length;
    if (count !== null) count.textContent = t("hintsShown", { shown: revealed, total: result.data.hint_count });
    button.disabled = revealed >= result.data.hint_count;
  });
}

function mountReference(root: HTMLElement, config: TrialConfig): void {
  const section = root.querySelector<HTMLElement>('[data-testid="reference"]');
  const button = section?.querySelector<HTMLButtonElement>('[data-action="show-reference"]');
  const files = section?.querySelector<HTMLElement>(".reference-files");
  if (!section || !button || !files) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    files.textContent = t("referenceLoading");
    const result = await api<{ files: { name: string; code: string }[] }>(config.urls.reference);
    files.replaceChildren();
    if (!result.ok || result.data === null) {
      const error = document.createElement("p");
      error.className = "error";
      error.textContent = result.error?.message ?? "";
      files.append(error);
      button.disabled = false;
      return;
    }
    for (const file of result.data.files) {
      const figure = document.createElement("figure");
      const caption = document.createElement("figcaption");
      caption.textContent = file.name;
      const pre = document.createElement("pre");
      const codeElement = document.createElement("code");
      codeElement.textContent = file.code;
      pre.append(codeElement);
      figure.append(caption, pre);
      files.append(figure);
    }
    button.hidden = true;
  });
}
