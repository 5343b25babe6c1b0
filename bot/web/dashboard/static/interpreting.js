// Sportello dashboard, ticket page: "Translate my text" asks the city's machine translation for a draft in
// the user's language; the mediator checks it and sends it with the form below (their own text kept).
// Without this script the page still works: the mediator writes the reply themselves.
(function () {
  "use strict";
  var button = document.getElementById("draft-button");
  var mine = document.getElementById("reply-text");
  var form = document.getElementById("translated-form");
  if (!button || !mine || !form) return;
  var draft = document.getElementById("translated-text");
  var original = document.getElementById("translated-original");
  var token = form.querySelector("input[name=csrf_token]").value;
  var status = document.getElementById("live");

  button.addEventListener("click", function () {
    var text = mine.value.trim();
    if (!text) { mine.focus(); return; }
    button.disabled = true;
    fetch(button.dataset.api, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify({ text: text })
    })
      .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
      .then(function (res) {
        button.disabled = false;
        if (!res.ok) { if (status) status.textContent = res.data.detail || ""; return; }
        original.value = text;
        draft.value = res.data.draft;
        form.hidden = false;
        draft.focus();
      })
      .catch(function () { button.disabled = false; });
  });
})();
