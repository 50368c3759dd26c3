// Progressive enhancement for Huashen's server-rendered pages. Every page works without this script;
// it only removes a click here and asks before a destructive submit there. No framework.

import { syncZoneCookie } from "../zone";

/** Language switchers: submit on change, and hide the fallback button the script makes redundant. */
function enhanceLanguageForms(root: ParentNode): void {
  for (const select of root.querySelectorAll<HTMLSelectElement>("form.language select")) {
    const form = select.form;
    if (form === null || select.dataset.enhanced === "1") continue;
    select.dataset.enhanced = "1";
    select.addEventListener("change", () => form.requestSubmit());
    for (const button of form.querySelectorAll<HTMLElement>("button.js-hide, input.js-hide")) {
      button.hidden = true;
    }
  }
}

/** Buttons with data-confirm="…": ask before their form is submitted, cancel the submit on "no". */
function confirmSubmitter(event: SubmitEvent): void {
  const submitter = event.submitter;
  if (!(submitter instanceof HTMLElement)) return;
  const message = submitter.dataset.confirm;
  if (message !== undefined && !window.confirm(message)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}

function main(): void {
  syncZoneCookie(document);
  enhanceLanguageForms(document);
  // Captured on the document, so it also covers forms rendered after load and Enter-key submits.
  document.addEventListener("submit", confirmSubmitter, { capture: true });
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", main, { once: true });
} else {
  main();
}
