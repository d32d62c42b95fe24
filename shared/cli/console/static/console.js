// Deckhand console: progressive enhancement only. Every page works
// without this script; with it, the fleet filters as you type and pages
// refresh themselves while "Live" is on (never while you type or a form
// is being filled in).
(function () {
  "use strict";
  var REFRESH_MS = 5000;
  var body = document.body;

  // Filter the fleet's rows on this page as you type; Apply still asks the
  // server (which also filters by state and across pages).
  var q = document.getElementById("q");
  var table = document.getElementById("fleet");
  function filterRows() {
    if (!q || !table) return;
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      var text = tr.textContent.toLowerCase();
      var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
      tr.hidden = !ok;
      if (ok) shown++;
    });
    var none = document.querySelector(".empty-live");
    if (none) none.hidden = shown > 0;
  }
  if (q) q.addEventListener("input", filterRows);

  // Live refresh: fetch this page again and swap <main> in place.
  var toggle = document.getElementById("live");
  var label = toggle && toggle.closest("label");
  if (!toggle || !label || document.querySelector("form[method=post]")) return;
  label.hidden = false;
  var stored = null;
  try { stored = window.localStorage.getItem("deckhand-live"); } catch (e) {}
  toggle.checked = stored === null ? body.dataset.live === "on" : stored === "on";
  toggle.addEventListener("change", function () {
    try { window.localStorage.setItem("deckhand-live", toggle.checked ? "on" : "off"); } catch (e) {}
  });
  function busy() {
    var a = document.activeElement;
    return document.hidden || (a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA"));
  }
  function refresh() {
    if (!toggle.checked || busy()) return schedule();
    var open = Array.prototype.map.call(document.querySelectorAll("details[open]"), function (d) {
      var li = d.closest("[data-revision]");
      return li ? li.dataset.revision : null;
    });
    fetch(window.location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html || busy()) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.getElementById("main"), cur = document.getElementById("main");
        if (!next || !cur) return;
        cur.innerHTML = next.innerHTML;
        var foot = doc.querySelector(".foot"), curFoot = document.querySelector(".foot");
        if (foot && curFoot) curFoot.innerHTML = foot.innerHTML;
        open.forEach(function (rev) {
          var d = rev && document.querySelector('[data-revision="' + rev + '"] details');
          if (d) d.open = true;
        });
        q = document.getElementById("q");
        table = document.getElementById("fleet");
        if (q) { q.addEventListener("input", filterRows); filterRows(); }
      })
      .catch(function () {})
      .then(schedule);
  }
  function schedule() { window.setTimeout(refresh, REFRESH_MS); }
  schedule();
})();
