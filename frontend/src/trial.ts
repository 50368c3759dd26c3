// The trial page island and the submission view island. Loaded by the trial page, and by any page that
// shows a submission with `<div data-island="submission" data-submission-id="N">`.

import "./trial/trial.css";

import { mountSubmissionIslands } from "./trial/submission_view";
import { mountTrialPage } from "./trial/page";

export { mountSubmissionView } from "./trial/submission_view";

function main(): void {
  const page = document.querySelector<HTMLElement>('[data-island="trial"]');
  if (page !== null) mountTrialPage(page);
  mountSubmissionIslands(document);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", main, { once: true });
} else {
  main();
}
