/* The kiosk's procedures step (issue 17): after a service with a catalogue is tapped, its
 * procedures as large buttons; one more tap issues the ticket with the procedure, so the
 * paper, the screen and the status page list the documents to bring. "Khác / không rõ" is
 * always there and issues without one. A procedure that can be filed fully online first
 * says so, with a QR code of its page (drawn by the server), and still gives a number.
 *
 * Long lists get a search line: rows of big letter keys (no touch keyboard needed) or a
 * physical keyboard; matching ignores accents, so "khai sinh" finds "Đăng ký khai sinh".
 * An office without a catalogue never sees any of this.
 */
import { $ } from "/static/js/dom.js";

var SEARCH_FROM = 7;   // this many procedures or more: show the search line
var LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
// Vietnamese needs no F, J, W, Z: fewer, bigger keys (English names get them). Đ is typed as D.
var NOT_VIETNAMESE = "FJWZ";
var KEY_WORDS = { " ": "procedure.space", back: "procedure.delete", clear: "procedure.clear" };

// Lower case, accents and đ folded away: what a search compares.
export function fold(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
    .replace(/[đĐ]/g, "d").toLowerCase().replace(/\s+/g, " ").trim();
}

// Every typed word is found in the name (or the code).
export function matches(procedure, query) {
  var words = fold(query).split(" ").filter(Boolean);
  var hay = fold(procedure.name) + " " + fold(procedure.code);
  return words.every(function (w) { return hay.indexOf(w) >= 0; });
}

var kiosk = null;      // what kiosk.js lends: see procedureStep
var catalogue = {};   // service code -> [procedure], in the current language
var service = null;   // the service whose list is shown
var chosen = null;    // the online-first procedure on screen
var query = "";

function load(lang) {
  return kiosk.api("GET", "/offices/" + encodeURIComponent(kiosk.office) + "/procedures")
    .then(function (r) {
      if (r.status !== 200 || !r.data || lang !== kiosk.lang()) return;
      var byService = {};
      (r.data.procedures || []).forEach(function (p) {
        (byService[p.service] = byService[p.service] || []).push(p);
      });
      catalogue = byService;
      if (kiosk.screen() === "procedures") render();
    })
    .catch(function () {});
}

function has(code) {
  return !!(catalogue[code] && catalogue[code].length);
}

function open(code, name) {
  service = { code: code, name: name };
  query = "";
  kiosk.guard();
  kiosk.show("procedures");
  render();
  $("proc-list").scrollTop = 0;
}

function render() {
  if (!service) return;
  var all = catalogue[service.code] || [];
  $("proc-service").textContent = service.name;
  $("proc-search").hidden = all.length < SEARCH_FROM;
  document.querySelectorAll(".pkey").forEach(function (k) {
    k.hidden = kiosk.lang() === "vi" && k.dataset.key.length === 1 && NOT_VIETNAMESE.indexOf(k.dataset.key) >= 0;
  });
  $("proc-query").textContent = query || kiosk.t("procedure.search");
  $("proc-query").classList.toggle("is-empty", !query);
  var shown = all.filter(function (p) { return matches(p, query); });
  var box = $("proc-list");
  box.textContent = "";
  shown.forEach(function (p) { box.appendChild(button(p)); });
  $("proc-none").hidden = shown.length > 0;
}

function button(p) {
  var b = document.createElement("button");
  b.type = "button";
  b.className = "proc" + (p.online === "full" ? " is-online" : "");
  b.dataset.code = p.code;
  var name = document.createElement("span");
  name.className = "proc-name";
  name.textContent = p.name;
  b.appendChild(name);
  if (p.online === "full") {
    var badge = document.createElement("span");
    badge.className = "proc-online";
    badge.textContent = kiosk.t("procedure.online_badge");
    b.appendChild(badge);
  }
  b.addEventListener("click", function () { choose(p); });
  return b;
}

function choose(p) {
  if (!kiosk.canTap("procedures")) return;
  if (p.online === "full" && p.url) return showOnline(p);
  kiosk.issue(service.code, "procedures", p.code);
}

function showOnline(p) {
  chosen = p;
  kiosk.guard();
  $("online-name").textContent = p.name;
  $("online-qr").src = "/api/v1/offices/" + encodeURIComponent(kiosk.office) + "/procedures/" +
    encodeURIComponent(p.code) + "/qr.svg";
  kiosk.show("online");
}

function type(ch) {
  if (kiosk.screen() !== "procedures" || $("proc-search").hidden) return;
  if (ch === "back") query = query.slice(0, -1);
  else if (ch === "clear") query = "";
  else if (query.length < 30 && !(ch === " " && (!query || query.slice(-1) === " "))) query += ch.toLowerCase();
  render();
}

// A physical keyboard types into the search too (kiosk.js routes its keys here).
function key(e) {
  if (e.key === "Backspace") type("back");
  else if (e.key === "Escape") type("clear");
  else if (e.key.length === 1 && /[\p{L}\p{N} ]/u.test(e.key)) type(e.key);
}

function buildKeys() {
  var box = $("proc-keys");
  (LETTERS + " ").split("").concat(["back", "clear"]).forEach(function (ch) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "pkey" + (ch.length > 1 || ch === " " ? " is-wide" : "");
    b.dataset.key = ch;
    var label = KEY_WORDS[ch];
    if (label) b.dataset.t = label;  // applyWords in kiosk.js changes its language
    b.textContent = label ? kiosk.t(label) : ch;
    b.addEventListener("click", function () { type(ch); });
    box.appendChild(b);
  });
}

/* Wires the step into the kiosk. `k`: { t, api, office, lang(), screen(), show(screen),
 * issue(service, from, procedure), back(), canTap(screen), guard() }. */
export function procedureStep(k) {
  kiosk = k;
  $("proc-other").addEventListener("click", function () {
    if (kiosk.canTap("procedures")) kiosk.issue(service.code, "procedures", null);
  });
  $("proc-back").addEventListener("click", function () { if (kiosk.screen() === "procedures") kiosk.back(); });
  $("online-back").addEventListener("click", function () {
    if (kiosk.screen() !== "online") return;
    kiosk.guard();
    kiosk.show("procedures");
  });
  $("online-take").addEventListener("click", function () {
    if (chosen && kiosk.canTap("online")) kiosk.issue(service.code, "online", chosen.code);
  });
  buildKeys();
  return { load: load, has: has, open: open, render: render, key: key };
}
