/* Màn hình chờ: the lobby TV (and the compact screen above one counter).

   The screen is drawn from the board snapshot and kept up by events in the office's
   order; the live client (/static/js/live.js) owns that rule: old events are dropped,
   a gap asks for the snapshot again. Every call and recall is announced, even one that
   reveals a gap: one <audio> element, a queue, one clip at a time.
   An office with waiting areas also shows each area's seats in use and the numbers called
   in from outside to a seat (docs/seating.md), each announced like a call, in the same queue;
   an office without areas shows neither. */
import { client } from "/static/js/api.js";
import { parts } from "/static/js/clock.js";
import { $, el, readJson, restart } from "/static/js/dom.js";
import { connect } from "/static/js/live.js";
import { words } from "/static/js/words.js";

const cfg = readJson("display-config");
const compact = !!cfg.counter;
const RECENT_SHOWN = 6;
const RECENT_SHOWN_SEATING = 4;  // the called-in list takes the room of two recent calls
const CALLED_IN_SHOWN = 4;
const ACTIVE = { called: true, serving: true };
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const t = words(cfg.strings, { lang: "vi" });
const api = client({ token: cfg.token, lang: "vi" });

const state = {
  office: null,          // GET /api/v1/offices/<code>: names, counters, services, notice
  board: { seq: 0, serving: [], waiting: {}, recent: [], areas: [], called_in: [] },
  newest: null           // the call shown large: {number, counter, recall}
};

// ------------------------------------------------------------------ office

function loadOffice() {
  return api.call("GET", "/offices/" + encodeURIComponent(cfg.office))
    .then(function (office) {
      if (!office) return;
      state.office = office;
      if (office.timezone) cfg.timezone = office.timezone;
      renderAll();
    })
    .catch(function () { /* the next reconnect or the minute timer tries again */ });
}

function counters() {
  if (state.office && state.office.counters) return state.office.counters;
  return cfg.counter ? [{ id: cfg.counter.id, label: cfg.counter.label, number: cfg.counter.number, status: "open" }] : [];
}

function services() {
  if (state.office && state.office.services) return state.office.services;
  return Object.keys(cfg.services).map(function (code) { return { code: code, name: cfg.services[code] }; });
}

// ------------------------------------------------------------------ clock

function localParts(date) {
  return parts(date, cfg.timezone);
}

function renderClock() {
  if (compact) return;
  var p = localParts(new Date());
  $("clock-time").textContent = p.hour + ":" + p.minute;
  var day = DAYS.indexOf(p.dayKey) >= 0 ? t("day." + p.dayKey) : "";
  $("clock-date").textContent = (day ? day + ", " : "") + p.day + "/" + p.month + "/" + p.year;
}

// ------------------------------------------------------------------ drawing

function servingAt(label) {
  var list = state.board.serving || [];
  for (var i = 0; i < list.length; i++) if (list[i].counter === label) return list[i];
  return null;
}

function renderAll() {
  if (compact) { renderCompact(); return; }
  if (state.office && state.office.name) $("office-name").textContent = state.office.name;
  renderClock();
  renderHero();
  renderCounters();
  renderRecent();
  renderSeating();
  renderWaiting();
  renderTicker();
}

function renderHero() {
  var call = state.newest;
  if (!call) {
    var r = (state.board.recent || [])[0];
    if (r) call = { number: r.number, counter: r.counter, recall: false };
  }
  $("hero").classList.toggle("empty", !call);
  $("hero-number").textContent = call ? call.number : "—";
  $("hero-counter-label").textContent = call ? (call.counter || "") : t("none_yet");
  $("hero-recall").hidden = !(call && call.recall);
}

function renderCounters() {
  var box = $("counters");
  var list = counters();
  var cols = list.length <= 4 ? 2 : list.length <= 6 ? 3 : list.length <= 12 ? 4 : 5;
  var rows = Math.max(1, Math.ceil(list.length / cols));
  box.style.setProperty("--cols", cols);
  box.setAttribute("data-rows", String(Math.min(rows, 4)));
  box.textContent = "";
  list.forEach(function (c) {
    var s = servingAt(c.label);
    var card = el("div", "ctr" + (s ? " serving" : " idle") + (c.status === "closed" ? " closed" : ""));
    card.setAttribute("data-counter", c.label);
    card.appendChild(el("p", "ctr-label", c.label));
    card.appendChild(el("p", "ctr-number", s ? s.number : t("idle")));
    var note = c.status === "closed" ? t("closed") : c.status === "paused" ? t("paused") : "";
    card.appendChild(el("p", "ctr-state", note));
    box.appendChild(card);
  });
}

function renderRecent() {
  var box = $("recent");
  box.textContent = "";
  var list = (state.board.recent || []).slice(0, seating() ? RECENT_SHOWN_SEATING : RECENT_SHOWN);
  if (!list.length) { box.appendChild(el("li", "empty", t("none_yet"))); return; }
  list.forEach(function (r, i) {
    var li = el("li", (i === 0 ? "newest" : "") + (ACTIVE[r.status] || i === 0 ? "" : " gone"));
    li.appendChild(el("span", "r-number", r.number));
    li.appendChild(el("span", "r-counter", r.counter ? "→ " + r.counter : ""));
    box.appendChild(li);
  });
}

function seating() { return !!(state.board.areas && state.board.areas.length); }

function renderSeating() {
  var on = seating();
  document.body.classList.toggle("seating", on);
  $("areas").hidden = !on;
  $("called-in-box").hidden = !on;
  if (!on) return;
  var box = $("areas");
  box.textContent = "";
  box.style.setProperty("--cols", Math.min(state.board.areas.length, 3));
  state.board.areas.forEach(function (a) {
    var full = !(a.free > 0);
    var item = el("div", "area" + (full ? " full" : ""));
    item.setAttribute("data-area", a.code);
    item.appendChild(el("p", "a-name", a.name || a.code));
    var use = el("p", "a-use");
    use.appendChild(el("span", "a-count", a.used + "/" + a.capacity));
    use.appendChild(el("span", "a-unit", t("seating.seats")));
    item.appendChild(use);
    item.appendChild(el("p", "a-state", a.outside > 0 ? t("seating.outside", { n: a.outside })
      : full ? t("seating.full") : t("seating.free", { n: a.free })));
    box.appendChild(item);
  });
  var list = $("called-in");
  list.textContent = "";
  var called = (state.board.called_in || []).slice(0, CALLED_IN_SHOWN);
  if (!called.length) { list.appendChild(el("li", "empty", t("seating.none"))); return; }
  called.forEach(function (c, i) {
    var li = el("li", i === 0 ? "newest" : "");
    li.setAttribute("data-number", c.number);
    li.appendChild(el("span", "ci-number", c.number));
    li.appendChild(el("span", "ci-seat", "→ " + t("seating.seat", { seat: c.seat })));
    list.appendChild(li);
  });
}

function renderWaiting() {
  var box = $("waiting");
  box.textContent = "";
  var waiting = state.board.waiting || {};
  services().forEach(function (sv) {
    var n = waiting[sv.code] || 0;
    var item = el("div", "wait" + (n ? "" : " zero"));
    item.setAttribute("data-service", sv.code);
    item.appendChild(el("span", "w-name", sv.name));
    item.appendChild(el("span", "w-count", String(n)));
    box.appendChild(item);
  });
  fitNames(box);
}

// A name too long for its cell gets a smaller font, step by step, until all of it shows.
var NAME_VH = [2.6, 2.4, 2.2, 2, 1.8, 1.6];
function fitNames(box) {
  if (!box) return;  // the compact screen above one counter lists no queues
  box.querySelectorAll(".w-name").forEach(function (name) {
    for (var i = 0; i < NAME_VH.length; i++) {
      name.style.fontSize = NAME_VH[i] + "vh";
      if (name.scrollHeight <= name.clientHeight + 1 && name.scrollWidth <= name.clientWidth + 1) break;
    }
  });
}
// Measured again once the bundled font has loaded, and when the screen changes size.
if (document.fonts && document.fonts.ready) document.fonts.ready.then(function () { fitNames($("waiting")); });
window.addEventListener("resize", function () { fitNames($("waiting")); });

function renderTicker() {
  var notice = state.office && typeof state.office.notice === "string" ? state.office.notice.trim() : "";
  var ticker = $("ticker");
  if (!notice) { ticker.hidden = true; return; }
  if ($("ticker-text").textContent !== notice || ticker.hidden) {
    $("ticker-text").textContent = notice;
    ticker.hidden = false;
    // About 12 characters a second, whatever the length: slow enough to read from afar.
    var seconds = Math.max(15, Math.round((notice.length + 60) / 12));
    $("ticker-track").style.setProperty("--ticker-s", seconds + "s");
  }
}

function renderCompact() {
  var c = cfg.counter;
  var office = counters().filter(function (x) { return x.id === c.id; })[0];
  var s = servingAt(office ? office.label : c.label);
  $("compact-label").textContent = office ? office.label : c.label;
  var closed = office && office.status === "closed";
  document.body.classList.toggle("idle", !s);
  document.body.classList.toggle("closed", !s && !!closed);
  $("compact-number").textContent = s ? s.number : (closed ? t("closed") : t("idle"));
  $("compact-caption").textContent = s ? t("serving_now") : (office && office.status === "paused" ? t("paused") : "");
}

// ------------------------------------------------------------------ events

function setBoard(board) {
  state.board = board;
  state.newest = null;  // the snapshot's newest call is recent[0]
  renderAll();
}

function onEvent(name, ev) {
  apply(name, ev);
  renderAll();
  if (name === "ticket_called") flashCall(ev);
  if (name === "area_changed" && !compact) {
    (ev.seated || []).forEach(function (t) {
      if (t.reason === "called_in") restart(document.querySelector("#called-in li[data-number='" + t.number + "']"), "flash");
    });
  }
}

function apply(name, ev) {
  var b = state.board;
  if (name === "ticket_called") {
    b.serving = (b.serving || []).filter(function (s) {
      return s.counter !== ev.counter && !(s.number === ev.number && s.service === ev.service);
    });
    b.serving.push({ counter: ev.counter, counter_number: ev.counter_number, number: ev.number,
                     service: ev.service, status: "called" });
    b.recent = (b.recent || []).filter(function (r) { return !(r.number === ev.number && r.service === ev.service); });
    b.recent.unshift({ number: ev.number, service: ev.service, status: "called", counter: ev.counter,
                       called_at: new Date().toISOString() });
    state.newest = { number: ev.number, counter: ev.counter, recall: !!ev.recall };
    dropCalledIn(ev.number);
  } else if (name === "ticket_changed") {
    if (ev.status !== "waiting") dropCalledIn(ev.number);
    b.serving = (b.serving || []).filter(function (s) { return !(s.number === ev.number && s.service === ev.service); });
    if (ACTIVE[ev.status] && ev.counter) {
      b.serving = b.serving.filter(function (s) { return s.counter !== ev.counter; });
      b.serving.push({ counter: ev.counter, number: ev.number, service: ev.service, status: ev.status });
    }
    (b.recent || []).forEach(function (r) {
      if (r.number === ev.number && r.service === ev.service) r.status = ev.status;
    });
  } else if (name === "queue_changed") {
    if (ev.waiting) b.waiting = ev.waiting;
  } else if (name === "counter_changed") {
    counters().forEach(function (c) { if (c.id === ev.id) { c.status = ev.status; c.label = ev.label || c.label; } });
    if (ev.status === "closed") b.serving = (b.serving || []).filter(function (s) { return s.counter !== ev.label; });
  } else if (name === "area_changed") {
    // One event per change of an area: its new counts, and the citizens it seated.
    (b.areas || []).forEach(function (a) {
      if (a.code !== ev.code) return;
      a.capacity = ev.capacity; a.used = ev.used; a.free = ev.free; a.outside = ev.outside;
    });
    (ev.seated || []).forEach(function (t) { seated(t, ev.code); });
  }
}

// A citizen called in from outside to a seat, moved by a rule change, or sent outside.
function seated(t, area) {
  var b = state.board;
  if (t.reason === "called_in") {
    dropCalledIn(t.number);
    b.called_in = b.called_in || [];
    b.called_in.unshift({ number: t.number, seat: t.seat, area: area, at: new Date().toISOString() });
  } else if (t.reason === "moved") {
    (b.called_in || []).forEach(function (c) { if (c.number === t.number) { c.seat = t.seat; c.area = area; } });
  } else if (t.location !== "inside") {
    dropCalledIn(t.number);
  }
}

function dropCalledIn(number) {
  var b = state.board;
  if (b.called_in) b.called_in = b.called_in.filter(function (c) { return c.number !== number; });
}

function flashCall(ev) {
  if (compact) {
    if (ev.counter === cfg.counter.label) restart(document.body, "flash");
    return;
  }
  restart($("hero"), "flash");
  var cards = document.querySelectorAll(".ctr");
  for (var i = 0; i < cards.length; i++) {
    if (cards[i].getAttribute("data-counter") === ev.counter) restart(cards[i], "flash");
  }
}

// ------------------------------------------------------------------ announcements

// One <audio>, one clip at a time, in the order the calls came. A clip that fails to
// load or play is skipped after a short pause, and a watchdog ends any clip that hangs.
var audio = $("announcer");
var voice = { queue: [], current: null, log: [], overlaps: 0 };
var LOAD_TIMEOUT_MS = 8000, AFTER_MS = 400, AFTER_FAILURE_MS = 800;

function announcementUrl(ev) {
  var url = "/display/" + encodeURIComponent(cfg.office) + "/announcement.wav?token=" + encodeURIComponent(cfg.token) +
    "&number=" + encodeURIComponent(ev.number) + "&counter=" + encodeURIComponent(ev.counter_number);
  return ev.recall ? url + "&recall=1" : url;
}

// A citizen called in from outside to a freed seat: said like a call, in the same queue.
var SEAT_SPOKEN = /^[A-Z]{0,3}[0-9]{1,4}$/;  // server/infra/speech.py SEAT: other labels are shown, not said

function calledInUrl(t) {
  var url = "/display/" + encodeURIComponent(cfg.office) + "/announcement.wav?token=" + encodeURIComponent(cfg.token) +
    "&number=" + encodeURIComponent(t.number) + "&called_in=1";
  return SEAT_SPOKEN.test(t.seat || "") ? url + "&seat=" + encodeURIComponent(t.seat) : url;
}

function announce(url) {
  if (compact || !audio) return;  // the lobby TV speaks; a counter's small screen does not
  voice.queue.push(url);
  pump();
}

function pump() {
  if (voice.current || !voice.queue.length) return;
  if (!audio.paused && !audio.ended) voice.overlaps += 1;  // never expected: the test checks it stays 0
  var entry = { url: voice.queue.shift(), start: Date.now(), end: null, outcome: null, timer: null };
  voice.current = entry;
  voice.log.push(entry);
  entry.timer = setTimeout(function () { finish(entry, "timeout"); }, LOAD_TIMEOUT_MS);
  audio.src = entry.url;
  var played;
  try { played = audio.play(); } catch (e) { finish(entry, "rejected"); return; }
  if (played && played.catch) played.catch(function () { finish(entry, "rejected"); });
}

function finish(entry, outcome) {
  if (voice.current !== entry) return;
  clearTimeout(entry.timer);
  entry.end = Date.now();
  entry.outcome = outcome;
  voice.current = null;
  try { audio.pause(); } catch (e) { /* nothing to stop */ }
  setTimeout(pump, outcome === "ended" ? AFTER_MS : AFTER_FAILURE_MS);
}

if (audio) {
  audio.addEventListener("ended", function () { if (voice.current) finish(voice.current, "ended"); });
  audio.addEventListener("error", function () { if (voice.current) finish(voice.current, "error"); });
  audio.addEventListener("loadedmetadata", function () {
    var entry = voice.current;
    if (!entry || !isFinite(audio.duration)) return;
    clearTimeout(entry.timer);  // it loaded: allow its whole length, then a little more
    entry.timer = setTimeout(function () { finish(entry, "timeout"); }, audio.duration * 1000 + 3000);
  });
}

// ------------------------------------------------------------------ connection

function setLive(on) { document.body.setAttribute("data-live", on ? "true" : "false"); }

const live = connect({
  auth: { token: cfg.token },
  socket: { reconnectionDelay: 500, reconnectionDelayMax: 2000, randomizationFactor: 0.3 },
  rejoinMs: 2000,
  retry: function () { return 3000; },  // refused (say, while the server starts): try again
  onSnapshot: setBoard,
  onStatus: function (on) { setLive(on); if (on) loadOffice(); }
});
["ticket_called", "ticket_changed", "queue_changed", "counter_changed", "area_changed"].forEach(function (name) {
  live.on(name, function (ev) { onEvent(name, ev); });
});
// A new call is announced at once, even when it also reveals a gap.
live.peek("ticket_called", function (ev, fresh) { if (fresh) announce(announcementUrl(ev)); });
live.peek("area_changed", function (ev, fresh) {
  if (!fresh) return;
  (ev.seated || []).forEach(function (t) { if (t.reason === "called_in" && t.number) announce(calledInUrl(t)); });
});
// An admin changed the office (counters, services, the notice): read it and the board again.
var officeTimer = null;
live.on("office_changed", function () {
  clearTimeout(officeTimer);
  officeTimer = setTimeout(function () { loadOffice(); live.requestSnapshot(); }, 200);
});
// The display's token was revoked: reload, so the page says so and how to get a new one.
live.on("device_revoked", function () { location.reload(); });

// The office (its notice, counters' states) and the snapshot again now and then: a safety net.
setInterval(function () {
  if (!live.connected) return;
  loadOffice();
  live.requestSnapshot();
}, 60000);
setInterval(renderClock, 1000);

renderAll();

// For the browser tests and for a technician's console: the order rule's state is the live client's.
window.motcuaDisplay = { state: live.state, voice: voice, onEvent: live.receive, requestBoard: live.requestSnapshot, socket: live.socket, view: state };
