// Sportello dashboard: live updates through server-sent events. Everything works without this script
// (forms post and the server redirects); the script only spares a reload when something happens.
(function () {
  "use strict";

  // the dashboard's strings in the mediator's language, embedded by the page (bot/web/dashboard/i18n.py)
  var strings = {};
  var embedded = document.getElementById("dashboard-strings");
  try { strings = JSON.parse(embedded ? embedded.textContent : "{}") || {}; } catch (error) { strings = {}; }
  function _(msgid, values) {
    var text = strings[msgid] || msgid;
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(values[name]); });
    return text;
  }

  function listen(url, onEvent, onStop) {
    if (!url || !window.EventSource) return;
    var source = new EventSource(url);
    // on every (re)connection, look once: anything that happened before we listened is shown too
    source.onopen = function () { onEvent({}); };
    source.onmessage = function (message) {
      var data;
      try { data = JSON.parse(message.data); } catch (error) { return; }
      onEvent(data);
    };
    source.onerror = function () {
      // the browser reconnects by itself; CLOSED means it will not (logged out, or no access)
      if (source.readyState === EventSource.CLOSED) onStop();
    };
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  var live = document.getElementById("live");
  function say(text) {
    if (live) live.textContent = text;
  }
  function stopped() {
    say(_("Live updates have stopped: reload the page."));
  }

  function loggedOut(response) {
    if (response.status === 401 || (response.redirected && response.url.indexOf("/dashboard/login") !== -1)) {
      window.location.reload();
      return true;
    }
    return false;
  }

  function item(className, metaParts, text, dir, lang) {
    var li = document.createElement("li");
    li.className = className;
    var meta = document.createElement("p");
    meta.className = "meta";
    var author = document.createElement("span");
    author.className = "author";
    author.textContent = metaParts.author;
    var time = document.createElement("time");
    time.dateTime = metaParts.at || "";
    time.textContent = metaParts.atLocal || "";
    meta.append(author, " · ", time);
    var body = document.createElement("p");
    body.className = "text";
    body.dir = dir;
    if (lang) body.lang = lang;
    body.textContent = text;
    li.append(meta, body);
    return li;
  }

  // only what is new is appended: a screen reader announces the new lines, not the whole conversation
  function appendNew(list, selector, entries, build) {
    var shown = list.querySelectorAll(selector).length;
    if (shown > entries.length) {
      list.textContent = "";
      shown = 0;
    }
    for (var i = shown; i < entries.length; i++) list.appendChild(build(entries[i]));
  }

  // the ticket page -------------------------------------------------------------------------------
  var transcript = document.getElementById("transcript");
  if (transcript) {
    var notes = document.getElementById("notes");
    var status = document.getElementById("status");
    var assignee = document.getElementById("assignee");
    var changed = document.getElementById("changed");
    var shownStatus = status ? status.dataset.status : "";

    var refreshTicket = function () {
      fetch(transcript.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (loggedOut(response) || !response.ok) return null;
          return response.json();
        })
        .then(function (ticket) {
          if (!ticket) return;
          appendNew(transcript, "li.entry", ticket.transcript, function (e) {
            return item("entry entry-" + e.author, { author: e.author_label, at: e.at, atLocal: e.at_local },
                        e.text, e.dir, e.lang);
          });
          if (notes) {
            appendNew(notes, "li.note", ticket.notes, function (n) {
              return item("note", { author: n.mediator, at: n.at, atLocal: n.at_local }, n.text, "auto", "");
            });
          }
          if (status) status.textContent = ticket.status_label;
          if (assignee) assignee.textContent = ticket.assignee || _("Nobody");
          if (changed && ticket.status !== shownStatus) changed.hidden = false;
        })
        .catch(function () { /* the next event tries again */ });
    };
    listen(transcript.dataset.events, debounce(refreshTicket, 200), stopped);
  }

  // the queue page --------------------------------------------------------------------------------
  var queue = document.getElementById("queue");
  if (queue) {
    var refreshQueue = function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (loggedOut(response) || !response.ok) return null;
          return response.text();
        })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("queue");
          if (!fresh) return;
          queue.innerHTML = fresh.innerHTML;
          say(_("Queue updated at {time}", { time: new Date().toLocaleTimeString(document.documentElement.lang) }));
        })
        .catch(function () { /* the next event tries again */ });
    };
    listen(queue.dataset.events, debounce(refreshQueue, 500), stopped);
  }
})();
