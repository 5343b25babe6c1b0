// Sportello web chat: talks to POST /api/chat. No framework, works on old phones.
(function () {
  "use strict";
  // The page's frame in every language (title, labels, placeholder, button, status lines): choosing a
  // language, or writing in one, switches the frame in place; the address keeps ?lang= for a reload.
  var frames = JSON.parse(document.getElementById("frames").textContent);
  var strings = frames[document.documentElement.lang] || {};
  var log = document.getElementById("log");
  var status = document.getElementById("status");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var selector = document.getElementById("language");
  // Who is writing is the server's session cookie (HttpOnly, set with this page): nothing to keep here.
  localStorage.removeItem("sportello-user");
  var RTL = { ar: true, ur: true };

  function applyFrame(code) {
    var frame = frames[code];
    if (!frame) { return; }
    strings = frame;
    document.title = frame.title;
    document.getElementById("title").textContent = frame.title;
    document.getElementById("language-label").textContent = frame.language;
    document.getElementById("text-label").textContent = frame.message;
    document.getElementById("send").textContent = frame.send;
    var attach = document.getElementById("attach");
    attach.title = frame.attach;
    attach.querySelector(".visually-hidden").textContent = frame.attach;
    log.setAttribute("aria-label", frame.conversation);
    input.placeholder = frame.placeholder;
  }

  function setLanguage(code) {
    document.documentElement.lang = code;
    document.documentElement.dir = RTL[code] ? "rtl" : "ltr";
    selector.value = code;
    applyFrame(code);
    var address = new URL(window.location.href);
    if (address.searchParams.get("lang") !== code) {
      address.searchParams.set("lang", code);
      window.history.replaceState(null, "", address.toString());
    }
  }

  function add(kind, text, buttons, language) {
    var item = document.createElement("li");
    item.className = "msg " + kind;
    if (language) { item.lang = language; item.dir = RTL[language] ? "rtl" : "ltr"; } else { item.dir = "auto"; }
    item.textContent = text;
    if (buttons && buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      buttons.forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", function () { send(b.payload, b.title); });
        row.appendChild(button);
      });
      item.appendChild(row);
    }
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  // What the one-stop shop writes arrives on its own (server-sent events), also while nobody types;
  // each letter is confirmed once shown, so one written while the page was closed shows up next time.
  var shownLetters = {};
  function person(letter) {
    if (shownLetters[letter.id]) { return; }
    shownLetters[letter.id] = true;
    var item = document.createElement("li");
    item.className = "msg " + (letter.from_person ? "person" : "bot");
    item.lang = letter.language;
    item.dir = letter.direction;
    if (letter.who) {
      var who = document.createElement("p");
      who.className = "who";
      who.textContent = letter.who;
      item.appendChild(who);
    }
    var text = document.createElement("p");
    text.className = "text";
    text.textContent = letter.text;
    item.appendChild(text);
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
    fetch("/api/chat/shown", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ up_to: letter.id }) });
  }
  if (window.EventSource) {
    var letters = new EventSource("/api/chat/events");
    letters.addEventListener("letter", function (event) { person(JSON.parse(event.data)); });
  }

  function send(text, shown, language) {
    add("user", shown || text);
    status.textContent = strings.busy;
    var body = { text: text };
    if (language) { body.language = language; }
    fetch("/api/chat", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
      .then(show)
      .catch(function () { status.textContent = strings.error; });
  }

  function show(res) {
    status.textContent = res.data.relayed ? strings.relayed : "";
    if (!res.ok) { add("bot", res.data.detail || strings.error, [], res.data.language); return; }
    setLanguage(res.data.language);
    res.data.replies.forEach(function (r) { add("bot", r.text, r.buttons, res.data.language); });
  }

  // A photo or a PDF for the user's request: the server says whether it was received. The file's own
  // name stays in the browser (shown here only); the upload is called "upload".
  var picker = document.getElementById("file");
  picker.addEventListener("change", function () {
    var file = picker.files && picker.files[0];
    if (!file) { return; }
    picker.value = "";
    add("user", "📎 " + file.name);
    status.textContent = strings.busy;
    var body = new FormData();
    body.append("language", selector.value);
    body.append("file", file, "upload");
    fetch("/api/chat/attachment", { method: "POST", credentials: "same-origin", body: body })
      .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
      .then(show)
      .catch(function () { status.textContent = strings.error; });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  selector.addEventListener("change", function () {
    setLanguage(selector.value);
    send('/choose_language{"language":"' + selector.value + '"}', selector.options[selector.selectedIndex].text, selector.value);
  });
})();
