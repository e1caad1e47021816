// The citizen's private result page, /ket-qua/<token> (server/web/pages/result.py).
//
// The page arrives with the dossier (the private reply of GET /api/v1/public/dossiers/<token>)
// and draws one of:
//   finished  posted (on its way), delivered, returned, withdrawn: nothing to choose
//   chosen    post (to whom, where; may still change to the counter), a booked return slot,
//             or "I will just come"
//   choose    two big choices: at the counter (book a slot, or just come) or by post
// Every change goes through the API and the page is redrawn from the reply. Errors come
// back in the page's language (Accept-Language) and are shown next to their field.
import { client } from "/static/js/api.js";
import { $, el, readJson, show } from "/static/js/dom.js";
import { fill } from "/static/js/words.js";

var root = $("result-page");
var data = readJson("result-data");
var W = data.words, D = data.dossier;
var token = root.dataset.token, lang = root.dataset.lang, tz = root.dataset.tz || "Asia/Ho_Chi_Minh";
var call = client({ lang: lang, failed: W.failed, network: W.network }).call;
var base = "/public/dossiers/" + encodeURIComponent(token);

// ------------------------------------------------------------ words and numbers

function dmy(day) { var p = day.split("-"); return p[2] + "/" + p[1] + "/" + p[0]; }   // "30/11/2026"
function money(n) { return fill(W.currency, { amount: String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".") }); }
var hm = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false });
var ymd = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" });
function time(iso) { return hm.format(new Date(iso)); }
function dayName(day, withYear) {
  var p = day.split("-").map(Number), wd = new Date(Date.UTC(p[0], p[1] - 1, p[2])).getUTCDay();
  return W["wd" + wd] + " " + dmy(day).slice(0, withYear ? 10 : 5);
}
function span(s) { return time(s.start) + "–" + time(s.end); }
function slotText(s) { return dayName(ymd.format(new Date(s.start)), true) + ", " + span(s); }
// A sentence whose filled-in values (codes, names) never break across lines.
function fillWhole(node, text, params) {
  node.textContent = "";
  String(text).split(/(\{\w+\})/).forEach(function (part) {
    var name = /^\{(\w+)\}$/.exec(part);
    if (name && Object.prototype.hasOwnProperty.call(params, name[1])) {
      node.appendChild(el("span", "whole", params[name[1]]));
    } else if (part) node.appendChild(document.createTextNode(part));
  });
}
function serviceName() { return D.return_service_name || ""; }

// Phone numbers as the server takes them: spaces, dots, dashes and +84 allowed.
function phoneDigits(v) {
  var s = String(v || "").replace(/[\s.\-()]/g, "");
  if (s.indexOf("+84") === 0) s = "0" + s.slice(3);
  else if (s.indexOf("84") === 0 && s.length >= 11) s = "0" + s.slice(2);
  return s;
}
function phoneOk(v) { return /^0\d{8,10}$/.test(phoneDigits(v)); }
function letters(v) { return (String(v).match(/\p{L}/gu) || []).length; }

function fieldError(id, message) {
  var box = $(id + "-error"), input = $(id);
  box.textContent = message || "";
  show(box, !!message);
  if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
}
function say(id, message) { $(id).textContent = message || ""; show($(id), !!message); }
function busy(button, on, label) {
  button.disabled = on;
  if (on) { button.dataset.label = button.textContent; button.textContent = W.sending; }
  else if (button.dataset.label) button.textContent = label || button.dataset.label;
}

// ------------------------------------------------------------ drawing the dossier

var panels = ["finished", "chosen", "choose", "counter-panel", "post-panel"];
function only(id) { panels.forEach(function (p) { show($(p), p === id); }); }

function drawFacts() {
  $("receipt").textContent = D.code;
  var status = $("status");
  status.textContent = D.status_text.charAt(0).toUpperCase() + D.status_text.slice(1);
  status.className = "status-pill st-" + D.status;
  if (D.procedure) $("procedure").textContent = D.procedure.name;
  if (D.due_on) {
    var due = $("due");
    due.textContent = dmy(D.due_on);
    if (D.timeliness) due.appendChild(el("span", "timeliness " + D.timeliness,
                                            D.timeliness === "late" ? W.late : W.on_time));
  }
  // While it is processed, what happens next; once ready, the panels below say it.
  var early = D.status === "received" || D.status === "processing";
  $("next").textContent = D.next_step;
  show($("next"), early);
  show($("next-label"), early);
}

function draw() {
  drawFacts();
  if (!D.may_choose) return drawFinished();
  if (D.return_method) return drawChosen();
  $("choose-title").textContent = D.status === "ready" ? W.choose_title : W.choose_title_early;
  only("choose");
}

function drawFinished() {
  var day = D.status === "posted" ? D.posted_on : D.finished_on;
  // SVG elements have no `hidden` property: the attribute itself.
  $("icon-posted").toggleAttribute("hidden", D.status !== "posted");
  $("icon-done").toggleAttribute("hidden", D.status !== "delivered" && D.status !== "returned");
  $("finished-title").textContent = W[D.status + "_title"] || D.status_text;
  $("finished-line").textContent = !day ? "" : D.status === "posted"
    ? fill(W.posted_on, { date: dmy(day) }) : fill(W.finished_on, { date: dmy(day) });
  var to = D.status === "posted" && D.address ? fill(W.posted_to, { recipient: D.recipient || "", address: D.address }) : "";
  say("finished-to", to);
  $("finished").className = "panel state done-state st-" + D.status;
  only("finished");
}

function drawChosen() {
  var post = D.return_method === "post", booked = !post && D.return_booking;
  $("chosen-title").textContent = "✓ " + (post ? W.post_done_title : booked ? W.booked_title : W.counter_done_title);
  var line = $("chosen-line");
  if (post) {
    line.textContent = fill(W.post_done, { recipient: D.recipient, address: D.address });
  } else if (booked) {
    fillWhole(line, W.booked_how, { code: D.code, booking: D.return_booking.code });
  } else {
    fillWhole(line, W.walk_in_done, { service: serviceName(), code: D.code });
  }
  say("chosen-more", post && D.phone ? fill(W.post_done_phone, { phone: D.phone }) : "");
  var when = $("chosen-time");
  when.textContent = "";
  if (booked) {
    when.appendChild(el("span", "whole", dayName(ymd.format(new Date(D.return_booking.start)), true)));
    when.appendChild(document.createTextNode(", "));
    when.appendChild(el("span", "whole", span(D.return_booking)));
  }
  show(when, !!booked);
  var manage = $("manage-booking");
  show(manage, !!booked);
  if (booked) manage.href = D.return_booking.manage_path + (lang === "en" ? "?lang=en" : "");
  show($("change-note"), post);
  show($("to-counter"), post);
  show($("edit-post"), post);
  show($("change-choice"), !post);
  only("chosen");
}

function redraw(dossier) {
  D = dossier;
  draw();
  window.scrollTo(0, 0);
}

// After a 409 (posted or returned meanwhile) the page shows what is true now.
function reload() {
  return call("GET", base).then(redraw, function () {});
}
function failed(err, where) {
  say(where, err.message);
  if (err.status === 409 || err.status === 404) reload();
}

// ------------------------------------------------------------ choosing

$("pick-counter").addEventListener("click", openCounter);
$("pick-post").addEventListener("click", openPost);
$("change-choice").addEventListener("click", function () {
  $("choose-title").textContent = D.status === "ready" ? W.choose_title : W.choose_title_early;
  only("choose");
});
$("edit-post").addEventListener("click", openPost);
$("to-counter").addEventListener("click", openCounter);
$("counter-back").addEventListener("click", draw);
$("post-back").addEventListener("click", draw);

function openCounter() {
  $("walk-in-sub").textContent = fill(W.walk_in_sub, { service: serviceName() });
  show($("pick-book"), !!D.return_service_name);
  show($("book-box"), false);
  say("counter-error", "");
  only("counter-panel");
  $("counter-panel").scrollIntoView({ block: "start" });
}

$("pick-walk-in").addEventListener("click", function () {
  var b = $("pick-walk-in");
  if (b.disabled) return;
  b.disabled = true;
  say("counter-error", "");
  call("POST", base + "/return", { method: "counter" }).then(redraw, function (err) { failed(err, "counter-error"); })
    .then(function () { b.disabled = false; });
});

// ---- post

function openPost() {
  $("recipient").value = D.recipient || $("recipient").value;
  $("post-phone").value = D.phone || $("post-phone").value;
  $("address").value = D.address || $("address").value;
  $("fee").textContent = D.postal_fee ? fill(W.fee, { fee: money(D.postal_fee) }) : W.fee_none;
  ["recipient", "post-phone", "address"].forEach(function (id) { fieldError(id, ""); });
  say("post-error", "");
  only("post-panel");
  $("post-panel").scrollIntoView({ block: "start" });
  if (!$("recipient").value) $("recipient").focus({ preventScroll: true });
}

function checkPost() {
  var recipient = $("recipient").value.trim().replace(/\s+/g, " ");
  var address = $("address").value.trim().replace(/\s+/g, " ");
  var phone = $("post-phone").value.trim();
  var bad = [];
  fieldError("recipient", letters(recipient) < 2 ? W.err_recipient : "");
  if (letters(recipient) < 2) bad.push("recipient");
  fieldError("post-phone", phoneOk(phone) ? "" : W.err_phone);
  if (!phoneOk(phone)) bad.push("post-phone");
  fieldError("address", address.length < 10 ? W.err_address : "");
  if (address.length < 10) bad.push("address");
  if (bad.length) { $(bad[0]).focus(); return null; }
  return { method: "post", recipient: recipient, phone: phoneDigits(phone), address: address };
}

var SERVER_FIELDS = { recipient: "recipient", address: "address", phone: "post-phone" };
$("post-form").addEventListener("submit", function (ev) {
  ev.preventDefault();
  var submit = $("post-submit");
  if (submit.disabled) return;
  say("post-error", "");
  var body = checkPost();
  if (!body) return;
  busy(submit, true);
  call("POST", base + "/return", body).then(redraw, function (err) {
    var field = err.code === "invalid_phone" ? "post-phone" : err.data && SERVER_FIELDS[err.data.field];
    if (field) fieldError(field, err.code === "invalid_phone" ? W.err_phone : err.message);
    else failed(err, "post-error");
  }).then(function () { busy(submit, false); });
});
["recipient", "post-phone", "address", "book-name", "book-phone"].forEach(function (id) {
  $(id).addEventListener("input", function () { if (!$(id + "-error").hidden) fieldError(id, ""); });
});

// ---- a return slot

var chosenSlot = null, slotsGen = 0;
$("pick-book").addEventListener("click", function () {
  show($("book-box"), true);
  var days = D.return_days || [];
  show($("no-days"), !days.length);
  show($("day-title"), !!days.length);
  var box = $("days");
  box.textContent = "";
  days.forEach(function (day, i) {
    var b = el("button", "chip day");
    b.type = "button";
    b.dataset.day = day;
    b.setAttribute("aria-pressed", "false");
    b.appendChild(el("span", "chip-main", dayName(day)));
    if (i < 2 && day === ymd.format(new Date())) b.appendChild(el("span", "chip-sub", W.today));
    b.addEventListener("click", function () { press(box, b); pickDay(day); });
    box.appendChild(b);
  });
  $("book-box").scrollIntoView({ block: "start", behavior: "smooth" });
});

function press(box, button) {
  Array.prototype.forEach.call(box.querySelectorAll("[aria-pressed]"), function (x) {
    x.setAttribute("aria-pressed", x === button ? "true" : "false");
  });
}

function pickDay(day) {
  var gen = ++slotsGen, box = $("slots");
  chosenSlot = null;
  show($("book-form"), false);
  show($("slot-title"), true);
  box.textContent = "";
  say("slot-notice", W.loading);
  call("GET", base + "/slots?date=" + encodeURIComponent(day)).then(function (reply) {
    if (gen !== slotsGen) return;
    var open = (reply.slots || []).filter(function (s) { return s.available > 0; });
    say("slot-notice", open.length ? "" : (reply.closed_reason && W["closed_" + reply.closed_reason]) || W.no_slots);
    reply.slots.forEach(function (s) { box.appendChild(slotButton(box, s)); });
  }, function (err) { if (gen === slotsGen) say("slot-notice", err.message); });
}

function slotButton(box, s) {
  var full = !(s.available > 0);
  var b = el("button", "chip slot" + (full ? " full" : ""));
  b.type = "button";
  b.dataset.start = s.start;
  b.setAttribute("aria-pressed", "false");
  b.appendChild(el("span", "chip-main", span(s)));
  b.appendChild(el("span", "chip-sub", full ? W.full : fill(W.seats_left, { n: s.available })));
  b.disabled = full;
  b.addEventListener("click", function () {
    press(box, b);
    chosenSlot = s;
    $("chosen-slot").textContent = fill(W.chosen_slot, { time: slotText(s) });
    if (!$("book-phone").value) $("book-phone").value = D.phone || "";
    if (!$("book-name").value) $("book-name").value = D.recipient || "";
    say("book-error", "");
    show($("book-form"), true);
    $("book-form").scrollIntoView({ block: "start", behavior: "smooth" });
  });
  return b;
}

$("book-form").addEventListener("submit", function (ev) {
  ev.preventDefault();
  var submit = $("book-submit");
  if (submit.disabled || !chosenSlot) return;
  var name = $("book-name").value.trim().replace(/\s+/g, " "), phone = $("book-phone").value.trim();
  fieldError("book-name", letters(name) < 2 ? W.err_name : "");
  fieldError("book-phone", phoneOk(phone) ? "" : W.err_phone);
  if (letters(name) < 2) return $("book-name").focus();
  if (!phoneOk(phone)) return $("book-phone").focus();
  say("book-error", "");
  busy(submit, true);
  call("POST", base + "/booking", { start: chosenSlot.start, name: name, phone: phoneDigits(phone) })
    .then(function (reply) { redraw(reply.dossier); }, function (err) {
      if (err.code === "invalid_phone") fieldError("book-phone", W.err_phone);
      else if (err.code === "name_too_short") fieldError("book-name", err.message);
      else failed(err, "book-error");
    }).then(function () { busy(submit, false); });
});

draw();
