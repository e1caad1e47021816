/* Đánh giá mức độ hài lòng: the counter's citizen rating tablet. No framework, nothing from the internet.
 *
 * Steps: locked -> levels (the ticket just completed here) -> reason (optional) -> thanks -> locked.
 * The server decides what may be rated: "rating_open" / "rating_closed" on the counter's room,
 * and GET /api/v1/counters/{id}/rating on every (re)connect.
 */
import { client } from "/static/js/api.js";
import { $, readJson } from "/static/js/dom.js";
import { connect } from "/static/js/live.js";
import { words } from "/static/js/words.js";

var cfg = readJson("rating-config");
var STRINGS = cfg.strings;
var THANKS_MS = 5000;
var IDLE_MS = 120000;
var FETCH_TIMEOUT_MS = 10000;
var CHIPS = { good: ["kind", "fast", "clear", "simple"], bad: ["wait", "unclear", "attitude", "documents"] };

var state = { lang: "vi", step: "locked", ticket: null, level: 0, chips: [], sending: false, thanksKey: "thanks_text", lastTouch: Date.now(), timer: null };

var t = words(STRINGS, { lang: function () { return state.lang; } });
var http = client({ token: cfg.token, lang: function () { return state.lang; }, timeout: FETCH_TIMEOUT_MS });

// The counter's rating: {status, data} whatever the status.
function api(method, body) {
  return http.request(method, "/counters/" + cfg.counter + "/rating", body);
}

// ------------------------------------------------------------------ drawing

function serviceName(code) {
  var names = cfg.services[code];
  return names ? (names[state.lang] || names.vi) : (code || "");
}

function render() {
  document.documentElement.lang = state.lang;
  document.body.dataset.step = state.step;
  ["locked", "levels", "reason", "thanks"].forEach(function (s) { $("step-" + s).hidden = s !== state.step; });
  document.querySelectorAll("[data-t]").forEach(function (el) { el.textContent = t(el.dataset.t); });
  document.querySelectorAll("[data-t-placeholder]").forEach(function (el) { el.placeholder = t(el.dataset.tPlaceholder); });
  document.querySelectorAll(".lang").forEach(function (b) { b.setAttribute("aria-pressed", String(b.dataset.lang === state.lang)); });
  var office = cfg.names[state.lang] || cfg.names.vi;
  $("office-name").textContent = office;
  $("locked-office").textContent = office;
  if (state.ticket) {
    $("question").textContent = t("question", { number: state.ticket.number });
    $("service").textContent = serviceName(state.ticket.service);
  }
  $("thanks-text").textContent = t(state.thanksKey);
  if (state.step === "reason") renderReason();
}

function renderReason() {
  var chosen = document.querySelector(".level[data-level='" + state.level + "']");
  $("chosen").innerHTML = "";
  if (chosen) {
    var copy = chosen.cloneNode(true);
    copy.className += " is-chosen";
    copy.disabled = true;
    copy.removeAttribute("data-level");
    $("chosen").appendChild(copy);
  }
  var box = $("chips");
  box.textContent = "";
  CHIPS[state.level >= 3 ? "good" : "bad"].forEach(function (key) {
    var full = (state.level >= 3 ? "good." : "bad.") + key;
    var b = document.createElement("button");
    b.type = "button";
    b.className = "chip";
    b.dataset.chip = full;
    b.textContent = t(full);
    b.setAttribute("aria-pressed", String(state.chips.indexOf(full) >= 0));
    box.appendChild(b);
  });
  $("send").disabled = $("skip").disabled = state.sending;
  $("send").textContent = state.sending ? t("sending") : t("send");
}

// ------------------------------------------------------------------ steps

function go(step) {
  clearTimeout(state.timer);
  state.step = step;
  if (step === "locked") {
    state.ticket = null; state.level = 0; state.chips = []; state.sending = false;
    state.thanksKey = "thanks_text";
    state.lang = "vi";  // the next citizen starts in Vietnamese
    $("reason-text").value = "";
    $("send-error").hidden = true;
  }
  if (step === "thanks") state.timer = setTimeout(function () { go("locked"); }, THANKS_MS);
  state.lastTouch = Date.now();
  render();
}

function open(ticket) {
  if (state.step === "thanks" || (state.ticket && state.ticket.id === ticket.id && state.step !== "locked")) return;
  if (!state.ticket || state.ticket.id !== ticket.id) state.lang = "vi";  // a new citizen
  state.ticket = ticket; state.level = 0; state.chips = [];
  $("reason-text").value = "";
  $("send-error").hidden = true;
  go("levels");
}

function close() {
  // The ticket was rated (on another screen, say): a thank-you here runs its course.
  if (state.step === "levels" || state.step === "reason") go("locked");
}

function reasonText() {
  var parts = state.chips.map(function (k) { return t(k); });
  var typed = $("reason-text").value.trim();
  if (typed) parts.push(typed);
  return parts.join("; ").slice(0, 500);
}

function send(withReason) {
  if (state.sending || !state.ticket) return;
  state.sending = true;
  $("send-error").hidden = true;
  render();
  var body = { ticket: state.ticket.id, level: state.level };
  var reason = withReason ? reasonText() : "";
  if (reason) body.reason = reason;
  api("POST", body).then(function (r) {
    state.sending = false;
    if (r.status === 201) return go("thanks");
    if (r.status === 409) {  // already rated, or the counter moved on: nothing more to do here
      state.thanksKey = "closed";
      return go("thanks");
    }
    showError();
  }, function () { state.sending = false; showError(); });
}

function showError() {
  $("send-error").textContent = t("failed");
  $("send-error").hidden = false;
  render();
}

function refresh() {
  api("GET").then(function (r) {
    if (r.status !== 200 || !r.data) return;
    if (r.data.open && r.data.ticket) {
      open({ id: r.data.ticket.id, number: r.data.ticket.number, service: r.data.ticket.service });
    } else {
      close();
    }
  }, function () {});
}

// ------------------------------------------------------------------ input

document.addEventListener("pointerdown", function () { state.lastTouch = Date.now(); }, true);
document.addEventListener("input", function () { state.lastTouch = Date.now(); }, true);

document.querySelectorAll(".level").forEach(function (b) {
  b.addEventListener("click", function () {
    if (state.step !== "levels") return;
    state.level = Number(b.dataset.level);
    state.chips = [];
    go("reason");
  });
});
$("chips").addEventListener("click", function (e) {
  var chip = e.target.closest(".chip");
  if (!chip) return;
  var i = state.chips.indexOf(chip.dataset.chip);
  if (i >= 0) state.chips.splice(i, 1); else state.chips.push(chip.dataset.chip);
  chip.setAttribute("aria-pressed", String(i < 0));
});
$("send").addEventListener("click", function () { send(true); });
$("skip").addEventListener("click", function () { send(false); });
document.querySelectorAll(".lang").forEach(function (b) {
  b.addEventListener("click", function () { state.lang = b.dataset.lang; render(); });
});

// Idle: the open screen locks after two minutes; a chosen level is sent without a reason.
setInterval(function () {
  if (Date.now() - state.lastTouch < IDLE_MS) return;
  if (state.step === "reason" && !state.sending) send(false);
  else if (state.step === "levels") go("locked");
}, 1000);

// ------------------------------------------------------------------ live

// The counter's room: rating_open / rating_closed; the rating is read again on every (re)connect.
var live = connect({
  auth: { token: cfg.token, counter: cfg.counter },
  onStatus: function (on, err) { $("offline").hidden = on; if (!err) document.body.dataset.live = on ? "1" : "0"; },
  onSnapshot: refresh
});
live.on("rating_open", function (d) {
  if (d.counter_id === cfg.counter) open({ id: d.ticket_id, number: d.number, service: d.service });
});
live.on("rating_closed", function (d) {
  if (d.counter_id === cfg.counter) close();
});

render();
