/* Máy lấy số: the kiosk page's behaviour. No framework, nothing from the internet.
 *
 * Screens: start (services + priority choice), procedures and online (procedures.js: a
 * service with a catalogue), check-in (booking code keyboard), lookup (lookup.js: a
 * dossier by its receipt code), ticket, message. One tap issues one ticket: every button is disabled while a request is in
 * flight, taps within TAP_GUARD_MS of the last are ignored, and each tap carries its own
 * Idempotency-Key.
 *
 * Booked citizens check in with their code (docs/booking.md): typed on the on-screen
 * keyboard, or scanned from its QR code by a USB barcode scanner, which "types" the code
 * and Enter as a burst of fast keystrokes. Such a burst is taken on any screen. A
 * receipt's code (or its QR code, the look-up page's address) checks in the return slot
 * booked for that dossier; a receipt without one opens its look-up answer.
 *
 * The waiting counts and free seats follow the office's events in order through the live
 * client (/static/js/live.js): an event that skips a seq makes it read the board again.
 */
import { client } from "/static/js/api.js";
import { parts } from "/static/js/clock.js";
import { $, readJson } from "/static/js/dom.js";
import { connect } from "/static/js/live.js";
import { words } from "/static/js/words.js";
import { accessTools } from "./access.js";
import { askGroup, closeGroups } from "./groups.js";
import { idCardStep } from "./idcard.js";
import { helpButton } from "./help.js";
import { isLookupAddress, lookupScreen, receiptOf } from "./lookup.js";
import { procedureStep } from "./procedures.js";
import { drawPlace, drawPrint, drawTicket } from "./ticketscreen.js";

var cfg = readJson("kiosk-config");
var TAP_GUARD_MS = 1500;
var TICKET_MS = 10000;
var TICKET_DOCUMENTS_MS = 20000;  // a list of documents to bring takes a while to read
var SCREEN_GUARD_MS = 600;  // a new screen ignores taps this long: a double tap must not land on it
var TICKET_FAILED_MS = 20000;   // a failed print leaves time to note the number down
var TICKET_OUTSIDE_MS = 20000;  // and "wait outside" takes a while to read
var MESSAGE_MS = 8000;
var IDLE_MS = 60000;
var REFRESH_MS = 30000;
var FETCH_TIMEOUT_MS = 10000;
var DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
var CODE_KEYS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";  // server/engine/booking.py CODE_ALPHABET: no 0/1/I/L/O
var CODE_LENGTH = 6;
var SCAN_GAP_MS = 100;    // a scanner types faster than this between keys; people do not
var SCAN_MIN = 4;         // shorter bursts are stray key presses
var CHECKIN_MESSAGE_MS = 15000;  // "come back at 09:45" takes a while to read

var state = {
  lang: "vi",
  priority: false,
  group: null,           // the priority group chosen (groups.js)
  office: null,          // GET /api/v1/offices/{office} in the current language
  waiting: {},
  areas: {},             // waiting areas by code, from the board and area_changed
  busy: false,
  lastTap: 0,
  lastTouch: Date.now(),
  screen: "start",
  ticket: null,
  code: "",              // the booking code typed on the check-in screen
  walkIn: null,          // the service a too-late booking may take a walk-in number for
  bookingOpen: false,    // the office takes bookings: show the check-in card
  backAt: 0,
  backTotal: 0,
  online: true,
  authorised: true
};

var t = words(cfg.strings, { lang: function () { return state.lang; } });
var api = client({ token: cfg.token, lang: function () { return state.lang; }, timeout: FETCH_TIMEOUT_MS }).request;

function uuid() {
  // crypto.randomUUID needs a secure context; a kiosk on http://192.168.x.y is not one.
  var b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
  return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
}

// ------------------------------------------------------------------ words

var procs = procedureStep({
  t: t, api: api, office: cfg.office, show: show, issue: issue, back: toStart,
  lang: function () { return state.lang; },
  screen: function () { return state.screen; },
  canTap: canTap,
  guard: function () { state.lastTap = Date.now() - TAP_GUARD_MS + SCREEN_GUARD_MS; }
});

var look = lookupScreen({
  t: t, api: api, office: cfg.office, show: show, issue: issue, checkIn: checkIn, toStart: toStart, failed: failed,
  renderHint: renderHint,
  lang: function () { return state.lang; },
  screen: function () { return state.screen; },
  busy: function () { return state.busy; },
  busyOn: startBusy,
  busyOff: endBusy,
  guard: function () { state.lastTap = Date.now() - TAP_GUARD_MS + SCREEN_GUARD_MS; }
});

// The chip ID card's QR (idcard.js): a scanned card is taken there first.
var card = idCardStep({
  t: t, api: api, office: cfg.office, mode: cfg.idCard || "off", state: state,
  busy: function () { return state.busy; }, busyOn: startBusy, busyOff: endBusy, toStart: function () { toStart(); },
  showTicket: function (tk, b) { showTicket(tk, b); }, showCheckedIn: function (d, c) { return showCheckedIn(d, c); },
  showMessage: function (x, y, z) { showMessage(x, y, z); }, failed: function (r) { failed(r); },
  renderPriority: function () { renderPriority(); }
});

// Large text and read aloud (access.js): both end when the citizen leaves.
var access = accessTools({
  state: state, t: t, office: cfg.office, token: cfg.token,
  keep: function (ms) { if (state.screen === "ticket") backAfter(Math.max(ms, state.backAt - Date.now())); }
});

function canTap(screen) {
  return !state.busy && state.screen === screen && Date.now() - state.lastTap >= TAP_GUARD_MS;
}

function applyWords() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-t]").forEach(function (el) { el.textContent = t(el.dataset.t); });
  document.querySelectorAll("[data-t-alt]").forEach(function (el) { el.alt = t(el.dataset.tAlt); });
  document.querySelectorAll(".lang").forEach(function (b) {
    b.setAttribute("aria-pressed", String(b.dataset.lang === state.lang));
  });
  $("office-name").textContent = (state.office && state.office.name) || cfg.names[state.lang] || cfg.names.vi;
  renderPriority();
  renderServices();
  renderClosed();
  renderClock();
  renderHint();
  card.render();
  if (state.screen === "ticket" && state.ticket) renderTicket();
  if (state.screen === "procedures") procs.render();
  if (state.screen === "lookup") look.relang();
}

function renderHint() {
  $("hint").textContent = state.screen === "checkin" ? t("checkin.hint") :
    state.screen === "lookup" ? look.hint() :
    state.screen === "procedures" ? t("procedure.hint") : t("hint");
}

// ------------------------------------------------------------------ clock

function localParts(date) {
  return parts(date, cfg.timezone);
}

function renderClock() {
  var p = localParts(new Date());
  $("clock-time").textContent = p.hour + ":" + p.minute;
  var day = DAYS.indexOf(p.dayKey) >= 0 ? t("day." + p.dayKey) : "";
  $("clock-date").textContent = (day ? day + ", " : "") + p.day + "/" + p.month + "/" + p.year;
}

// ------------------------------------------------------------------ start screen

function renderPriority() {
  var on = state.priority;
  $("priority").setAttribute("aria-pressed", String(on));
  document.body.classList.toggle("priority-on", on);
  $("priority-state").textContent = on ? t("priority.cancel") : t("priority.choose");
  $("priority").querySelector(".priority-title").textContent = on ? t("priority.chosen") : t("priority.title");
  $("prompt").textContent = on ? t("choose_priority") : t("choose");
  renderGroups();
}

// "Dành cho:" names the office's own priority groups, in its calling order and the kiosk's
// language (an office may add or rename groups); the page's defaults until they are read.
var renderedGroups = "";

function renderGroups() {
  var groups = state.office && state.office.priority_groups;
  if (!groups || !groups.length) return;
  var key = JSON.stringify(groups.map(function (g) { return g.name; }));
  if (key === renderedGroups) return;
  renderedGroups = key;
  $("priority-groups").replaceChildren.apply($("priority-groups"), groups.map(function (g) {
    var chip = document.createElement("span");
    chip.className = "group";
    chip.textContent = g.name;
    return chip;
  }));
}

var renderedServices = "";

function renderServices() {
  var box = $("services");
  var services = (state.office && state.office.services) || [];
  var key = state.lang + JSON.stringify(services);
  if (key !== renderedServices) {
    renderedServices = key;
    box.textContent = "";
    box.classList.toggle("many", services.length > 8);
    if (state.office && !services.length) {
      var none = document.createElement("p");
      none.className = "no-services";
      none.textContent = t("no_services");
      box.appendChild(none);
    }
    services.forEach(function (sv) {
      var b = document.createElement("button");
      b.type = "button";
      // No counter open with an officer at it: numbers are still issued, and the button says so.
      var unserved = !sv.paused && sv.open_counters === 0;
      b.className = "svc" + (sv.paused ? " is-paused" : "") + (unserved ? " is-unserved" : "");
      b.dataset.code = sv.code;
      b.innerHTML = '<span class="svc-name"></span><span class="svc-meta">' +
        '<span class="svc-wait"></span><span class="svc-seats"></span><span class="svc-unserved"></span>' +
        '<span class="svc-paused-note"></span><span class="svc-tag"></span></span>';
      b.querySelector(".svc-name").textContent = sv.name;
      b.querySelector(".svc-paused-note").textContent = t("paused");
      b.querySelector(".svc-unserved").textContent = unserved ? t("no_open_counter") : "";
      b.querySelector(".svc-tag").textContent = t("priority.badge");
      b.addEventListener("click", function () { tapService(sv); });
      box.appendChild(b);
    });
  }
  renderWaiting();
  renderSeats();
  setDisabled(state.busy);
}

function renderWaiting() {
  document.querySelectorAll(".svc").forEach(function (b) {
    var n = state.waiting[b.dataset.code];
    b.querySelector(".svc-wait").textContent = typeof n === "number" ? t("waiting", { n: n }) : "";
  });
}

function areaOf(service) {
  for (var code in state.areas) {
    if ((state.areas[code].services || []).indexOf(service) >= 0) return state.areas[code];
  }
  return null;
}

// Free seats of each service's waiting area; nothing for an office without areas.
function renderSeats() {
  document.querySelectorAll(".svc").forEach(function (b) {
    var area = areaOf(b.dataset.code);
    var el = b.querySelector(".svc-seats");
    var free = area && typeof area.free === "number" ? area.free : null;
    el.classList.toggle("is-full", free === 0);
    el.textContent = free === null ? "" : free === 0 ? t("seats.full") :
      free === 1 ? t("seats.free_one") : t("seats.free", { n: free });
  });
}

function renderClosed() {
  var o = state.office;
  var closed = !!(o && o.open_now === false);
  document.body.classList.toggle("is-closed", closed);
  $("closed").hidden = !closed;
  $("services").hidden = closed;
  $("checkin-open").hidden = closed || !state.bookingOpen;
  document.body.classList.toggle("booking-on", !closed && state.bookingOpen);
  if (!closed) return;
  var spans = ((o.hours || {})[localParts(new Date()).dayKey] || []).map(function (s) {
    return Array.isArray(s) ? s[0] + "–" + s[1] : String(s);
  });
  $("closed-hours").textContent = spans.length ? t("closed.today", { spans: spans.join(", ") }) : t("closed.not_today");
}

function setDisabled(disabled) {
  document.querySelectorAll(".svc, #priority, #checkin-open, #lookup-open, #message-walkin, .proc, #online-take, .look-take")
    .forEach(function (b) { b.disabled = disabled; });
  renderCode();
  if (state.screen === "lookup") look.render();
}

// ------------------------------------------------------------------ screens

var SCREENS = ["start", "procedures", "online", "ticket", "message", "checkin", "lookup"];

function show(screen) {
  state.screen = screen;
  document.body.dataset.screen = screen;
  SCREENS.forEach(function (name) { $("screen-" + name).hidden = screen !== name; });
  renderHint();
}

var backTimer = null;

function backAfter(ms) {
  state.backTotal = ms;
  state.backAt = Date.now() + ms;
  clearInterval(backTimer);
  tickBack();
  backTimer = setInterval(tickBack, 250);
}

function tickBack() {
  var left = Math.max(0, state.backAt - Date.now());
  var id = state.screen === "ticket" ? "ticket" : "message";
  $(id + "-countdown").textContent = t("back_in", { s: Math.ceil(left / 1000) });
  $(id + "-bar").style.transform = "scaleX(" + (state.backTotal ? left / state.backTotal : 0) + ")";
  if (left <= 0) toStart();
}

function toStart() {
  clearInterval(backTimer);
  if (state.screen === "ticket") access.reset();  // the citizen has their number and goes
  state.ticket = null;
  state.priority = false;
  state.group = null;
  closeGroups();
  state.code = "";
  state.walkIn = null;
  card.clear();
  $("message-walkin").hidden = true;
  // A finger still on the screen must not land on a service the moment it appears.
  state.lastTap = Math.max(state.lastTap, Date.now() - TAP_GUARD_MS + 500);
  show("start");
  renderPriority();
  setDisabled(state.busy);
}

function reset() {
  var relang = state.lang !== "vi";
  state.lang = "vi";
  access.reset();
  toStart();
  applyWords();
  if (relang) loadOffice();
}

function showMessage(text, title, opts) {
  opts = opts || {};
  state.ticket = null;
  state.walkIn = opts.walkIn || null;
  $("message-title").textContent = title || t("error.title");
  $("message-text").textContent = text;
  $("message-more").textContent = opts.more || "";
  $("message-more").hidden = !opts.more;
  $("message-walkin").hidden = !state.walkIn;
  show("message");
  backAfter(opts.ms || MESSAGE_MS);
}

function startBusy(words) {
  state.busy = true;
  setDisabled(true);
  $("busy-text").textContent = t(words || "busy");
  $("busy").hidden = false;
}

function endBusy() {
  state.busy = false;
  state.lastTap = Date.now();
  $("busy").hidden = true;
  setDisabled(false);
}

function failed(r) {
  if (r.status === 401 || r.status === 403) {
    state.authorised = r.status !== 401;
    setOnline(state.online);
    // A refused token (revoked, say): the server's words are for developers, these for citizens.
    showMessage(r.status === 401 ? t("error.token") : (r.data && r.data.message) || t("error.token"));
  } else {
    var title = FAILURE_TITLES[r.data && r.data.error];
    showMessage((r.data && r.data.message) || t("error.other"), title ? t(title) : null);
  }
}

// Refusals a citizen may meet when taking a number, titled in their words (not "error").
var FAILURE_TITLES = { id_card_required: "idcard.required_title", citizen_cap_reached: "idcard.cap_title" };

// ------------------------------------------------------------------ issuing

// A service with procedures opens their list (one more tap issues); any other issues now
// (a paused one too: the server's refusal says why at once, not after a choice).
function tapService(sv) {
  if (sv.paused || !procs.has(sv.code)) return issue(sv.code);
  if (canTap("start")) procs.open(sv.code, sv.name);
}

// `from` is the screen the tap must come from: the start screen, the procedures (or the
// online-first panel) with the chosen `procedure`, or the message that offers a walk-in
// number to a booking too late to check in.
function issue(code, from, procedure) {
  var now = Date.now();
  if (state.busy || state.screen !== (from || "start") || now - state.lastTap < TAP_GUARD_MS) return;
  state.lastTap = now;
  startBusy();
  var wanted = { service: code, priority: from === "message" ? false : state.priority };
  if (procedure) wanted.procedure = procedure;
  if (wanted.priority && state.group) wanted.priority_group = state.group;
  card.addTo(wanted);
  api("POST", "/offices/" + encodeURIComponent(cfg.office) + "/tickets", wanted, { "Idempotency-Key": uuid() })
    .then(function (r) {
      if (r.status === 201 && r.data && r.data.number) showTicket(r.data);
      else failed(r);
    })
    .catch(function () { showMessage(t("error.network")); })
    .finally(endBusy);
}

// ------------------------------------------------------------------ check-in

function normaliseCode(raw) {
  return String(raw || "").toUpperCase().replace(/[\s\-\u2010-\u2015]+/g, "");
}

function buildKeys() {
  var box = $("checkin-keys");
  CODE_KEYS.split("").forEach(function (ch) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "key" + (/[0-9]/.test(ch) ? " is-digit" : "");
    b.dataset.key = ch;
    b.textContent = ch;
    b.addEventListener("click", function () { typeChar(ch); });
    box.appendChild(b);
  });
}

function typeChar(ch) {
  if (state.screen !== "checkin" || state.busy) return;
  ch = normaliseCode(ch);
  if (ch.length !== 1 || CODE_KEYS.indexOf(ch) < 0 || state.code.length >= CODE_LENGTH) return;
  state.code += ch;
  renderCode();
}

function renderCode() {
  var cells = document.querySelectorAll("#checkin-code .code-cell");
  cells.forEach(function (c, i) {
    c.textContent = state.code.charAt(i);
    c.classList.toggle("is-next", i === state.code.length);
  });
  $("checkin-submit").disabled = state.busy || state.code.length !== CODE_LENGTH;
  $("checkin-delete").disabled = state.busy || !state.code.length;
}

function openCheckin() {
  if (state.busy || state.screen !== "start") return;
  clearInterval(backTimer);
  state.code = "";
  show("checkin");
  renderCode();
}

function localTime(iso) {
  if (!iso) return "";
  var d = new Date(iso);
  if (isNaN(d.getTime())) return "";
  var p = localParts(d);
  return p.hour + ":" + p.minute;
}

// The slot a checked-in ticket was booked for, whichever name the reply gives it.
function bookingStart(tk, extra) {
  var b = tk.booking && typeof tk.booking === "object" ? tk.booking : {};
  return tk.booked_for || tk.booking_start || b.start || (extra && extra.start) || null;
}

function serviceCodeOf(sv) {
  return sv && typeof sv === "object" ? sv.code : sv;
}

function serviceNameOf(code) {
  var services = (state.office && state.office.services) || [];
  for (var i = 0; i < services.length; i++) if (services[i].code === code) return services[i].name;
  return code;
}

// A booking's code as typed or scanned, or "" when `raw` is none.
function bookingCode(raw) {
  var code = normaliseCode(raw);
  return code.length === CODE_LENGTH && code.split("").every(function (ch) { return CODE_KEYS.indexOf(ch) >= 0; })
    ? code : "";
}

// `source`: "keys" for the on-screen keyboard, "scan" for a scanner's burst, "lookup" for
// the look-up screen's "confirm my appointment". The code is a booking's, or a receipt's
// (its dossier's booked return slot: server/engine/booking.py check_in).
function checkIn(raw, source) {
  var receipt = bookingCode(raw) ? "" : receiptOf(raw);
  var code = receipt || normaliseCode(raw);
  var now = Date.now();
  if (!code || state.busy) return;
  if (source !== "scan" && now - state.lastTap < TAP_GUARD_MS) return;
  state.lastTap = now;
  clearInterval(backTimer);
  state.code = code.slice(0, CODE_LENGTH);
  var instead = "";
  startBusy("checkin.busy");
  api("POST", "/offices/" + encodeURIComponent(cfg.office) + "/bookings/" + encodeURIComponent(code) + "/check-in",
      {}, { "Idempotency-Key": uuid() })
    .then(function (r) {
      var d = r.data || {};
      if (r.status === 201 && d.number) {
        showTicket(d, { code: d.booking && typeof d.booking === "string" ? d.booking : code });
      } else if (r.status === 409 && d.error === "already_checked_in") {
        return showCheckedIn(d, code);
      } else if (r.status === 409 && d.error === "too_early") {
        showMessage(d.message || t("checkin.early", { time: localTime(d.check_in_from) }),
                    t("checkin.early_title"), { ms: CHECKIN_MESSAGE_MS });
      } else if (r.status === 409 && d.error === "too_late") {
        var service = serviceCodeOf(d.service);
        showMessage(d.message || t("checkin.late"), t("checkin.late_title"),
                    { ms: CHECKIN_MESSAGE_MS, walkIn: service, more: service && !d.message ? t("checkin.late_offer") : "" });
      } else if (r.status === 409 && d.error === "booking_cancelled") {
        var again = serviceCodeOf(d.service);
        showMessage(d.message || t("checkin.cancelled", { code: code }), t("checkin.cancelled_title"),
                    { ms: CHECKIN_MESSAGE_MS, walkIn: again });
      } else if ((r.status === 404 || r.status === 400) && receipt && source !== "lookup") {
        instead = receipt;  // a receipt without a booked slot: what its dossier says, once not busy
      } else if (r.status === 404 || r.status === 400) {
        showMessage(t("checkin.not_found", { code: code }), t("checkin.not_found_title"),
                    { ms: CHECKIN_MESSAGE_MS });
      } else {
        failed(r);
      }
    })
    .catch(function () { showMessage(t("error.network")); })
    .finally(endBusy)
    .then(function () { if (instead) look.open(instead); });
}

// Scanned or typed again: the ticket it already gave, from the reply or read by its id.
function showCheckedIn(d, code) {
  var booking = { code: code, already: true, start: d.booked_for || d.start };
  if (d.ticket && typeof d.ticket === "object" && d.ticket.number) {
    showTicket(d.ticket, booking);
    return null;
  }
  var id = d.ticket_id || (typeof d.ticket === "number" ? d.ticket : null);
  if (!id) {
    showMessage(d.message || t("checkin.already"), t("checkin.booking_code", { code: code }));
    return null;
  }
  return api("GET", "/tickets/" + encodeURIComponent(id)).then(function (r) {
    if (r.status === 200 && r.data && r.data.number) showTicket(r.data, booking);
    else showMessage(d.message || t("checkin.already"), t("checkin.booking_code", { code: code }));
  });
}

// A USB barcode scanner is a keyboard: the code arrives as keystrokes a few ms apart,
// then Enter. Keys typed by a person (slowly) go to the code field on the check-in screen.
var scan = { buf: "", last: 0 };

function onKey(e) {
  if (e.ctrlKey || e.altKey || e.metaKey || e.isComposing) return;
  var now = performance.now();
  if (e.key === "Enter") {
    e.preventDefault();  // never "click" the button that happens to have focus
    var burst = now - scan.last <= SCAN_GAP_MS && scan.buf.length >= SCAN_MIN ? scan.buf : "";
    scan.buf = "";
    if (burst.length >= SCAN_MIN && burst.length <= 300) scanned(burst);
    else if (state.screen === "checkin" && state.code.length === CODE_LENGTH) checkIn(state.code, "keys");
    else if (state.screen === "lookup") look.enter();
    return;
  }
  if (state.screen === "lookup" && (e.key === "Backspace" || e.key === "Escape")) {
    e.preventDefault();
    look.key(e);
    return;
  }
  if (state.screen === "procedures" && (e.key === "Backspace" || e.key === "Escape")) {
    e.preventDefault();
    procs.key(e);
    return;
  }
  if (e.key === "Backspace" && state.screen === "checkin") {
    e.preventDefault();
    if (!state.busy) { state.code = state.code.slice(0, -1); renderCode(); }
    return;
  }
  if (!e.key || e.key.length !== 1) return;  // Shift, Tab, arrows…
  e.preventDefault();
  if (now - scan.last > SCAN_GAP_MS) scan.buf = "";
  scan.buf += e.key;
  scan.last = now;
  if (state.screen === "checkin") typeChar(e.key);
  else if (state.screen === "procedures") procs.key(e);
  else if (state.screen === "lookup") look.key(e);
}

// A scanner's burst: on the look-up screen a receipt to look up; anywhere else a code to
// check in (a booking's, or a receipt's whose return slot was booked).
function scanned(raw) {
  if (card.scan(raw)) return;
  if (state.screen === "lookup") return look.scan(raw);
  var code = isLookupAddress(raw) ? receiptOf(raw) : normaliseCode(raw).length >= SCAN_MIN ? raw : "";
  if (code) checkIn(code, "scan");
}

function publicToken(url) {
  var parts = String(url || "").split(/[?#]/)[0].split("/").filter(Boolean);
  return parts.length ? parts[parts.length - 1] : "";
}

// `booking`: {code, already, start} for a ticket from a booking's check-in.
function showTicket(ticket, booking) {
  var early = printResults[ticket.id];
  if (early && ticket.print) ticket.print = { status: early.status, message: early.message || null, job: early.job };
  state.ticket = ticket;
  state.ticketBooking = booking || null;
  var qr = $("ticket-qr");
  var token = publicToken(ticket.status_url);
  $("qr-missing").hidden = true;
  qr.hidden = !token;
  if (token) qr.src = "/t/" + encodeURIComponent(token) + "/qr.svg";
  else $("qr-missing").hidden = false;
  show("ticket");
  renderTicket();
  var failed = ticket.print && ticket.print.status === "failed";
  var documents = ticket.procedure && (ticket.procedure.documents || []).length;
  backAfter(failed ? TICKET_FAILED_MS : ticket.location === "outside" ? TICKET_OUTSIDE_MS :
            documents ? TICKET_DOCUMENTS_MS : TICKET_MS);
}

// The ticket screen's drawing lives in ticketscreen.js; it reads what it needs from here.
function screenContext() {
  return { t: t, lang: state.lang, office: state.office, areas: state.areas, booking: state.ticketBooking,
           bookingTime: function (tk, b) { return localTime(bookingStart(tk, b)); } };
}

function renderTicket() { drawTicket(state.ticket, screenContext()); }
function renderPlace() { drawPlace(state.ticket, screenContext()); }
function renderPrint() { drawPrint(state.ticket, t); }

// A citizen can be seated, moved or sent out while their ticket is still on screen.
function onSeated(ev) {
  var tk = state.ticket;
  if (!ev || !tk || state.screen !== "ticket" || ev.id !== tk.id) return;
  tk.seat = ev.seat || null;
  tk.location = ev.location || tk.location;
  tk.area = ev.area || tk.area;
  renderPlace();
}

// A print result can beat the ticket's own reply to the screen: keep the latest few.
var printResults = {};

function onPrintStatus(ev) {
  if (!ev) return;
  printResults[ev.ticket_id] = ev;
  var ids = Object.keys(printResults);
  if (ids.length > 20) delete printResults[ids[0]];
  if (!state.ticket || state.screen !== "ticket" || ev.ticket_id !== state.ticket.id) return;
  var before = state.ticket.print && state.ticket.print.status;
  state.ticket.print = { status: ev.status, message: ev.message || null, job: ev.job || null };
  renderPrint();
  if (ev.status === "failed" && before !== "failed") backAfter(TICKET_FAILED_MS);
}

// ------------------------------------------------------------------ data

// The check-in card shows only where the office takes bookings.
function loadBooking() {
  return api("GET", "/offices/" + encodeURIComponent(cfg.office) + "/booking")
    .then(function (r) {
      var services = (r.status === 200 && r.data && r.data.services) || [];
      var open = services.some(function (sv) { return sv.bookable !== false; });
      if (open !== state.bookingOpen) {
        state.bookingOpen = open;
        renderClosed();
      }
    })
    .catch(function () {});
}

function setOnline(online) {
  state.online = online;
  var el = $("offline");
  el.hidden = online && state.authorised;
  el.textContent = state.authorised ? t("offline") : t("error.token");
}

function loadOffice() {
  var lang = state.lang;
  procs.load(lang);
  return api("GET", "/offices/" + encodeURIComponent(cfg.office))
    .then(function (r) {
      if (r.status === 200 && r.data) {
        state.authorised = true;
        if (lang === state.lang) {
          state.office = r.data;
          applyWords();
        }
        setOnline(true);
      } else if (r.status === 401 || r.status === 403) {
        state.authorised = false;
        setOnline(false);
      } else {
        setOnline(false);
      }
    })
    .catch(function () { setOnline(false); });
}

function applyWaiting(data) {
  if (data && data.waiting && typeof data.waiting === "object") {
    state.waiting = data.waiting;
    renderWaiting();
  }
}

function applyBoardAreas(data) {
  if (!data || !Array.isArray(data.areas)) return;
  var areas = {};
  data.areas.forEach(function (a) { areas[a.code] = a; });
  state.areas = areas;
  renderSeats();
}

// One event per change of an area: its new counts (in the office's order), and the citizens
// it seated, moved or sent outside (the ticket on screen may be one of them: taken as it arrives).
function onAreaSeated(ev) {
  (ev && ev.seated || []).forEach(function (t) {
    onSeated({ id: t.id, seat: t.seat, location: t.location, area: ev.code });
  });
}

function onAreaChanged(ev) {
  var area = ev && state.areas[ev.code];
  if (!area) return;
  ["capacity", "used", "free", "outside"].forEach(function (k) {
    if (typeof ev[k] === "number") area[k] = ev[k];
  });
  renderSeats();
}

var live = connect({
  auth: { token: cfg.token },
  onSnapshot: function (board) { applyWaiting(board); applyBoardAreas(board); },
  onStatus: function (online) { setOnline(online); }
});
helpButton({ t: t, api: api, office: cfg.office, live: live });  // "Cần hỗ trợ" (help.js)
live.peek("area_changed", onAreaSeated);
live.on("area_changed", onAreaChanged);
live.on("queue_changed", applyWaiting);
live.on("print_status", onPrintStatus);
// The printer's state (server/engine/health.py): on connect, and whenever it changes.
live.on("printer_health", function (d) { $("printer-down").hidden = !(d && d.down); });
// An admin changed the office (services, hours, …): read it again. Only the start
// screen shows the services, so a ticket on screen is not disturbed.
live.on("office_changed", officeChanged);
// A counter opened or closed, an officer sat down or left: which services are served now.
live.on("counter_changed", officeChanged);
live.on("device_revoked", function () {
  state.authorised = false;
  setOnline(false);
  live.close();
});

var officeTimer = null;

function officeChanged() {
  clearTimeout(officeTimer);
  officeTimer = setTimeout(function () { loadOffice(); loadBooking(); }, 200);
}

// ------------------------------------------------------------------ wiring

$("priority").addEventListener("click", function () {
  if (state.busy || state.screen !== "start") return;
  var groups = (state.office && state.office.priority_groups) || [];
  var was = state.priority;
  state.priority = !was && !groups.length;  // with groups: on once the citizen chooses one
  state.group = null;
  renderPriority();
  if (!was && groups.length) {
    askGroup(groups, t, function (code) { state.group = code; state.priority = true; renderPriority(); }, function () {});
  }
});
$("ticket-done").addEventListener("click", toStart);
// After a printer fault the ticket stays valid; once the fault is cleared, print it again.
$("ticket-reprint").addEventListener("click", function () {
  var tk = state.ticket;
  if (!tk) return;
  $("ticket-reprint").disabled = true;
  api("POST", "/tickets/" + tk.id + "/reprint").then(function (r) {
    if (state.ticket !== tk) return;
    // The printer may already have answered (print_status) before this reply arrived:
    // only a ticket still marked failed becomes "queued".
    if (tk.print && tk.print.status === "failed") {
      tk.print = r.status === 202 ? { status: "queued", message: null, job: r.data.job }
                                  : { status: "failed", message: r.data && r.data.message, job: null };
    }
    renderPrint();
    backAfter(TICKET_FAILED_MS);
  }).catch(function () {}).finally(function () { $("ticket-reprint").disabled = false; });
});
$("message-done").addEventListener("click", toStart);
$("message-walkin").addEventListener("click", function () {
  if (state.walkIn) issue(state.walkIn, "message");
});
$("checkin-open").addEventListener("click", openCheckin);
$("lookup-open").addEventListener("click", function () {
  if (!state.busy && state.screen === "start") look.open("");
});
$("checkin-back").addEventListener("click", function () { if (!state.busy) toStart(); });
$("checkin-delete").addEventListener("click", function () {
  if (state.busy) return;
  state.code = state.code.slice(0, -1);
  renderCode();
});
$("checkin-submit").addEventListener("click", function () {
  if (state.code.length === CODE_LENGTH) checkIn(state.code, "keys");
});
document.addEventListener("keydown", onKey);
$("ticket-qr").addEventListener("error", function () {
  this.hidden = true;
  $("qr-missing").hidden = false;
});
document.querySelectorAll(".lang").forEach(function (b) {
  b.addEventListener("click", function () {
    if (b.dataset.lang === state.lang) return;
    state.lang = b.dataset.lang;
    applyWords();
    loadOffice();
  });
});
["pointerdown", "touchstart", "keydown"].forEach(function (name) {
  document.addEventListener(name, function () { state.lastTouch = Date.now(); }, { passive: true, capture: true });
});
document.addEventListener("contextmenu", function (e) { e.preventDefault(); });

setInterval(function () {
  renderClock();
  var idle = Date.now() - state.lastTouch >= IDLE_MS;
  if (idle && !state.busy && (state.lang !== "vi" || state.priority || !$("groups").hidden || state.screen !== "start" || access.on())) reset();
}, 1000);
setInterval(loadOffice, REFRESH_MS);
setInterval(loadBooking, REFRESH_MS);

buildKeys();
applyWords();
loadOffice();
loadBooking();

// For the browser tests and for a technician's console.
window.motcuaKiosk = { state: state, live: live };
