// The trial page island and the submission view island. Loaded by the trial page, and by any page that
// shows a submission with `<div data-island="submission" data-submission-id="N">`.

import "./trial/trial.css";

import { EditorView } from "@codemirror/view";

import { mountCoach } from "./trial/coach";
import { mountTryCell } from "./trial/scratch";
import { mountSubmissionIslands } from "./trial/submission_view";
import { mountTrialPage } from "./trial/page";

export { mountSubmissionView } from "./trial/submission_view";

function mountTrialCoach(page: HTMLElement): void {
  const box = page.querySelector<HTMLElement>('[data-testid="editor"]');
  let slug: unknown = null;
  try {
    slug = (JSON.parse(page.querySelector("#trial-config")?.textContent ?? "null") as { slug?: unknown } | null)?.slug;
  } catch {
    slug = null;
  }
  if (box !== null && typeof slug === "string" && slug !== "") {
    mountCoach(box, `/api/v1/exercises/${encodeURIComponent(slug)}/analyze/`);
  }
}

function trialSlug(page: HTMLElement): string | null {
  try {
    const slug = (JSON.parse(page.querySelector("#trial-config")?.textContent ?? "null") as { slug?: unknown } | null)
      ?.slug;
    return typeof slug === "string" && slug !== "" ? slug : null;
  } catch {
    return null;
  }
}

// The Try cell runs the snippet beside what the editor holds now (read from the editor itself).
function mountTrialTryCell(page: HTMLElement): void {
  const cell = page.querySelector<HTMLElement>('[data-testid="try-cell"]');
  const slug = trialSlug(page);
  if (cell === null || slug === null) return;
  const currentCode = (): string => {
    const dom = page.querySelector<HTMLElement>('[data-testid="editor"] .cm-editor');
    const view = dom === null ? null : EditorView.findFromDOM(dom);
    return view?.state.doc.toString() ?? "";
  };
  mountTryCell(cell, { url: `/api/v1/exercises/${encodeURIComponent(slug)}/try/`, currentCode });
}

function main(): void {
  const page = document.querySelector<HTMLElement>('[data-island="trial"]');
  if (page !== null) {
    mountTrialPage(page);
    mountTrialCoach(page);
    mountTrialTryCell(page);
  }
  mountSubmissionIslands(document);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", main, { once: true });
} else {
  main();
}
