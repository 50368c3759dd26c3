// The trial page island and the submission view island. Loaded by the trial page, and by any page that
// shows a submission with `<div data-island="submission" data-submission-id="N">`.

import "./trial.css";

import { EditorView } from "@codemirror/view";

import { mountCoach } from "./coach";
import { mountTryCell } from "./scratch";
import { mountSubmissionIslands } from "./submission_view";
import { mountTrialPage } from "./page";

export { mountSubmissionView } from "./submission_view";

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

function trialConfig(page: HTMLElement): { slug: string; draftKey: string | null } | null {
  try {
    const config = JSON.parse(page.querySelector("#trial-config")?.textContent ?? "null") as {
      slug?: unknown;
      draftKey?: unknown;
    } | null;
    const slug = config?.slug;
    if (typeof slug !== "string" || slug === "") return null;
    return { slug, draftKey: typeof config?.draftKey === "string" ? config.draftKey : null };
  } catch {
    return null;
  }
}

// The Try cell runs the snippet beside what the editor holds now (read from the editor itself).
function mountTrialTryCell(page: HTMLElement): void {
  const cell = page.querySelector<HTMLElement>('[data-testid="try-cell"]');
  const config = trialConfig(page);
  if (cell === null || config === null) return;
  const currentCode = (): string => {
    const dom = page.querySelector<HTMLElement>('[data-testid="editor"] .cm-editor');
    const view = dom === null ? null : EditorView.findFromDOM(dom);
    return view?.state.doc.toString() ?? "";
  };
  mountTryCell(cell, {
    url: `/api/v1/exercises/${encodeURIComponent(config.slug)}/try/`,
    currentCode,
    // The snippet stays in this browser, beside this user's draft of the trial.
    storageKey: config.draftKey === null ? undefined : `${config.draftKey}:try`,
  });
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
