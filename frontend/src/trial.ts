// The trial page island and the submission view island. Loaded by the trial page, and by any page that
// shows a submission with `<div data-island="submission" data-submission-id="N">`.

import "./trial/trial.css";

import { mountCoach } from "./trial/coach";
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

function main(): void {
  const page = document.querySelector<HTMLElement>('[data-island="trial"]');
  if (page !== null) {
    mountTrialPage(page);
    mountTrialCoach(page);
  }
  mountSubmissionIslands(document);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", main, { once: true });
} else {
  main();
}
