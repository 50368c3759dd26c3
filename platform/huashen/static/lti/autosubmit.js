// Posts a form marked data-autosubmit as soon as the page loads (the LTI deep-linking answer back to
// the LMS); the form's own button does the same where scripts do not run.
const form = document.querySelector("form[data-autosubmit]");
if (form instanceof HTMLFormElement) form.submit();
