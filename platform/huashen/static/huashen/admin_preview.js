// The statement editor's preview in the admin: as the author pauses typing, the text goes to the admin's
// preview URL (POST, with the page's CSRF token) and the rendered HTML (the trial page's renderer, which
// escapes everything first) replaces the preview beside the textarea.
(function () {
  "use strict";
  function csrfToken(form) {
    var field = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  function attach(area) {
    var url = area.getAttribute("data-preview-url");
    var pane = document.querySelector('[data-preview-of="' + area.id + '"] .statement-preview-body');
    if (!url || !pane) return;
    var timer = null;
    var asked = 0;
    area.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var mine = ++asked;
        var body = new URLSearchParams();
        body.set("text", area.value);
        fetch(url, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken(area.form) },
        })
          .then(function (response) { return response.ok ? response.text() : null; })
          .then(function (html) { if (html !== null && mine === asked) pane.innerHTML = html; })
          .catch(function () { /* the last preview stays; saving still works */ });
      }, 400);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-preview-url]").forEach(attach);
  });
})();
