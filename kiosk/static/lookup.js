/* The kiosk's "Tra cứu hồ sơ" screen (issue 18): a citizen types the receipt code on big
 * keys (digits, letters, dot, dash) or holds the receipt's barcode or QR code to the
 * scanner, and sees the dossier as the public look-up shows it (GET
 * /api/v1/public/offices/{office}/dossiers/{code}, with the kiosk's token: never limited):
 * status, procedure, dates, on time or late, what to do next. Nothing personal.
 *
 * A ready result offers a number for the office's return service ("Lấy số trả kết quả",
 * through the kiosk's own issue path), or, when a return slot was booked, "Xác nhận lịch
 * hẹn", which checks that booking in by the receipt code (the kiosk's check-in path).
 *
 * The receipt's QR code holds the look-up page's address, /tra-cuu/<office>?code=X: the
 * code is X. A plain barcode holds the code itself.
 */
import { $ } from "/static/js/dom.js";

var KEYS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.-";
var CODE = /^[A-Za-z0-9][A-Za-z0-9.-]{0,39}$/;  // server/engine/visits.py DOSSIER
var MAX = 40;
var DONE = ["returned", "posted", "delivered"];

var kiosk = null;   // what kiosk.js lends: see lookupScreen
var typed = "";
var answer = null;  // the reply on screen, or null while asking

// The receipt code a scan or a typed text holds: the code of a look-up address, or the
// text itself; "" when it is neither.
export function receiptOf(raw) {
  var text = String(raw || "").trim().replace(/[\u2010-\u2015]/g, "-");
  var found = /\/tra-cuu\/[^?#\s]*\?(?:[^#\s]*&)?code=([^&#\s]*)/i.exec(text);
  if (found) {
    try { text = decodeURIComponent(found[1].replace(/\+/g, " ")).trim(); } catch (e) { return ""; }
  }
  return CODE.test(text) ? text.toUpperCase() : "";
}

// Whether a scan came from a receipt's QR code (an address), not a booking's code.
export function isLookupAddress(raw) {
  return /\/tra-cuu\//i.test(String(raw || ""));
}

// The screen, empty, or answering `code` at once (a scanned receipt elsewhere).
function open(code) {
  kiosk.guard();
  typed = "";
  answer = null;
  kiosk.show("lookup");
  render();
  if (code) search(code);
}

function render() {
  $("look-ask").hidden = !!answer;
  $("look-answer").hidden = !answer;
  $("look-typed").textContent = typed || kiosk.t("lookup.placeholder");
  $("look-typed").classList.toggle("is-empty", !typed);
  var busy = kiosk.busy();
  $("look-submit").disabled = busy || !CODE.test(typed);
  $("look-delete").disabled = busy || !typed;
  $("look-clear").disabled = busy || !typed;
  if (answer) renderAnswer();
  kiosk.renderHint();
}

function type(ch) {
  if (kiosk.screen() !== "lookup" || answer || kiosk.busy()) return;
  if (ch === "back") typed = typed.slice(0, -1);
  else if (ch === "clear") typed = "";
  else if (typed.length < MAX && KEYS.indexOf(ch.toUpperCase()) >= 0) typed += ch.toUpperCase();
  $("look-error").hidden = true;
  render();
}

function day(iso) {
  return iso ? iso.slice(8, 10) + "/" + iso.slice(5, 7) + "/" + iso.slice(0, 4) : "";
}

function renderAnswer() {
  var a = answer;
  var box = $("look-answer");
  box.className = "look-answer st-" + a.status;
  $("look-code").textContent = kiosk.t("lookup.code", { code: a.code });
  var text = a.status_text || a.status;
  $("look-status-text").textContent = text.charAt(0).toUpperCase() + text.slice(1);
  var late = $("look-timeliness");
  var done = DONE.indexOf(a.status) >= 0;
  late.hidden = !a.timeliness;
  late.className = "look-timeliness " + (a.timeliness || "");
  late.textContent = a.timeliness === "late" ? "! " + kiosk.t(done ? "lookup.late_done" : "lookup.late") :
    a.timeliness ? "✓ " + kiosk.t(done ? "lookup.on_time_done" : "lookup.on_time") : "";
  $("look-procedure").textContent = a.procedure ? a.procedure.name : "";
  $("look-procedure").hidden = $("look-procedure-label").hidden = !a.procedure;
  $("look-received").textContent = day(a.received_on);
  $("look-due").textContent = day(a.due_on) || kiosk.t("lookup.no_due");
  $("look-slot").textContent = a.return_slot || "";
  $("look-slot").hidden = $("look-slot-label").hidden = !a.return_slot;
  $("look-next").textContent = a.next_step || "";
  var ready = a.status === "ready";
  $("look-confirm").hidden = !(ready && a.return_slot);
  $("look-take").hidden = !(ready && !a.return_slot && a.return_method !== "post" && a.return_service);
}

function search(code) {
  code = receiptOf(code);
  if (!code || kiosk.busy()) return;
  typed = code;
  kiosk.busyOn("lookup.busy");
  var lang = kiosk.lang();
  kiosk.api("GET", "/public/offices/" + encodeURIComponent(kiosk.office) + "/dossiers/" + encodeURIComponent(code))
    .then(function (r) {
      if (kiosk.screen() !== "lookup") return;
      if (r.status === 200 && r.data && r.data.code) {
        answer = r.data;
        answer.lang = lang;
      } else if (r.status === 404 || r.status === 400) {
        answer = null;
        $("look-error").textContent = kiosk.t("lookup.not_found", { code: code });
        $("look-error").hidden = false;
      } else {
        kiosk.failed(r);
      }
    })
    .catch(function () { kiosk.failed({ status: 0 }); })
    .finally(function () {
      kiosk.busyOff();
      if (kiosk.screen() === "lookup") render();
    });
}

// The line at the bottom of the screen.
function hint() {
  return kiosk.t(answer ? "lookup.hint_answer" : "lookup.hint");
}

// The language changed with an answer on screen: ask again, in the new words.
function relang() {
  if (kiosk.screen() !== "lookup") return;
  if (answer && answer.lang !== kiosk.lang()) {
    var code = answer.code;
    answer = null;
    search(code);
  } else {
    render();
  }
}

// A scanner's burst on this screen: the receipt's barcode or QR code.
function scan(raw) {
  var code = receiptOf(raw);
  if (!code) return;
  answer = null;
  $("look-error").hidden = true;
  search(code);
}

// A physical keyboard (or a scanner's keys as they arrive) types into the code.
function key(e) {
  if (e.key === "Backspace") type("back");
  else if (e.key === "Escape") type("clear");
  else if (e.key.length === 1) type(e.key);
}

// Enter typed by a person (not a scanner's burst): look the typed code up.
function enter() {
  if (!answer && CODE.test(typed)) search(typed);
}

function buildKeys() {
  var box = $("look-keys");
  KEYS.split("").forEach(function (ch) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "key lkey" + (/[0-9]/.test(ch) ? " is-digit" : /[.-]/.test(ch) ? " is-mark" : "");
    b.dataset.key = ch;
    b.textContent = ch;
    b.addEventListener("click", function () { type(ch); });
    box.appendChild(b);
  });
  var del = document.createElement("button");  // beside "-": where a finger looks for it
  del.type = "button";
  del.className = "key lkey is-wide";
  del.id = "look-delete";
  del.dataset.t = "lookup.delete";  // applyWords in kiosk.js changes its language
  del.textContent = kiosk.t("lookup.delete");
  del.addEventListener("click", function () { type("back"); });
  box.appendChild(del);
}

/* Wires the screen into the kiosk. `k`: { t, api, office, lang(), screen(), show(screen),
 * issue(service, from), checkIn(code, source), toStart(), guard(), busy(), busyOn(words),
 * busyOff(), failed(reply), renderHint() }. */
export function lookupScreen(k) {
  kiosk = k;
  buildKeys();
  $("look-back").addEventListener("click", function () { if (!kiosk.busy()) kiosk.toStart(); });
  $("look-home").addEventListener("click", function () { if (!kiosk.busy()) kiosk.toStart(); });
  $("look-clear").addEventListener("click", function () { type("clear"); });
  $("look-submit").addEventListener("click", function () { enter(); });
  $("look-again").addEventListener("click", function () {
    if (kiosk.busy()) return;
    answer = null;
    typed = "";
    kiosk.guard();
    render();
  });
  $("look-take").addEventListener("click", function () {
    if (answer && answer.return_service) kiosk.issue(answer.return_service, "lookup");
  });
  $("look-confirm").addEventListener("click", function () {
    if (answer) kiosk.checkIn(answer.code, "lookup");
  });
  return { open: open, render: render, relang: relang, scan: scan, key: key, enter: enter, hint: hint };
}
