// Supervisor wall: GET /live on load, on every office event (debounced) and on a timer;
// timers tick every second in the browser, corrected by the server's clock. The seat-map
// panel (seatmap.js) reads GET /areas and follows area_changed.
import { client } from "/static/js/api.js";
import { el, readJson } from "/static/js/dom.js";
import { connect } from "/static/js/live.js";
import { words } from "/static/js/words.js";
import * as DevicesPanel from "./devices.js";
import * as SeatMap from "./seatmap.js";

var cfg = readJson("config");
var EVENTS = ["ticket_called", "ticket_changed", "queue_changed", "counter_changed"];
var POLL_ONLINE = 15000, POLL_OFFLINE = 5000;
var data = null, skew = 0, online = false, pollTimer = null, soonTimer = null, loading = false, again = false;
var editing = {};  // counter id -> the open "Đổi lĩnh vực" form (kept across re-renders)
var notes = {};    // counter id -> {text, until}

var t = words(cfg.t);
var api = client({base: "", csrf: cfg.csrf, lang: cfg.lang, failed: function () { return t("supervisor.failed"); },
                  onUnauthorized: function () { location.href = cfg.home; }});
function now() { return Date.now() + skew; }
function minutes(ms) { return Math.floor(Math.max(0, ms) / 60000); }
function duration(ms) {
  var m = minutes(ms);
  if (m < 1) return t("supervisor.under_minute");
  if (m < 60) return t("supervisor.minutes", {n: m});
  return t("supervisor.hours", {h: Math.floor(m / 60), m: m % 60});
}
function since(iso) { return iso ? Date.parse(iso) : null; }

// ------------------------------------------------------------ loading
function load() {
  if (loading) { again = true; return; }
  loading = true;
  api.call("GET", cfg.live)
    .then(function (json) {
      data = json;
      skew = Date.parse(json.now) - Date.now();
      document.getElementById("load-error").hidden = true;
      render();
      loadAbsent();
    })
    .catch(function () { document.getElementById("load-error").hidden = false; })
    .then(function () {
      loading = false;
      if (again) { again = false; soon(); }
      schedule();
    });
}
function soon() { clearTimeout(soonTimer); soonTimer = setTimeout(load, 250); }
function schedule() { clearTimeout(pollTimer); pollTimer = setTimeout(load, online ? POLL_ONLINE : POLL_OFFLINE); }

// ------------------------------------------------------------ rendering
function render() {
  var cards = document.getElementById("cards");
  var seen = {};
  data.counters.forEach(function (c) {
    seen[c.id] = true;
    var card = document.getElementById("counter-" + c.id);
    if (!card) {
      card = el("article", "card-c");
      card.id = "counter-" + c.id;
      card.appendChild(el("div", "info"));
    }
    cards.appendChild(card);  // keeps the server's order
    card.className = "card-c s-" + c.status;
    card.dataset.label = c.label;
    var info = card.querySelector(".info");
    info.replaceChildren.apply(info, cardInfo(c));
    var form = editing[c.id];
    if (form && form.parentNode !== card) card.appendChild(form);
  });
  Array.prototype.slice.call(cards.children).forEach(function (card) {
    if (!seen[card.id.replace("counter-", "")]) card.remove();
  });
  renderQueues();
  renderRatings();
  renderOutcomes();
  var open = data.counters.filter(function (c) { return c.status === "open"; }).length;
  var waiting = data.services.reduce(function (n, s) { return n + s.waiting; }, 0);
  document.getElementById("summary").textContent = t("supervisor.summary", {open: open, total: data.counters.length, waiting: waiting});
  document.getElementById("updated").textContent = t("supervisor.updated", {
    time: new Date(now()).toLocaleTimeString(cfg.lang === "en" ? "en-GB" : "vi-VN", {hour: "2-digit", minute: "2-digit", second: "2-digit"})});
  tick();
}

function cardInfo(c) {
  var out = [];
  var head = el("header");
  head.appendChild(el("h3", null, c.label));
  head.appendChild(el("span", "badge", t("counter_status." + c.status)));
  out.push(head);
  out.push(c.officer ? el("p", "officer", c.officer.name) : el("p", "officer none", t("supervisor.no_officer")));
  var nowRow = el("div", "now");
  var timer = el("p", "timer");
  if (c.current) {
    var num = el("span", "num", c.current.number);
    num.dataset.number = c.current.number;
    nowRow.appendChild(num);
    nowRow.appendChild(el("span", "svc", c.current.service));
    if (c.current.priority_group_name) nowRow.appendChild(el("span", "group prio", "★ " + c.current.priority_group_name));
    timer.dataset.since = since(c.current.since);
    timer.dataset.kind = c.current.status === "serving" ? "serving" : "called";
  } else {
    nowRow.appendChild(el("span", "idle", t("supervisor.idle")));
    if (c.status === "open" && c.idle_since) { timer.dataset.since = since(c.idle_since); timer.dataset.kind = "idle"; }
    else if (c.status !== "open" && c.status_since) { timer.dataset.since = since(c.status_since); timer.dataset.kind = c.status; }
  }
  out.push(nowRow, timer);
  if (c.status === "paused" && c.pause_reason) out.push(el("p", "reason", t("supervisor.reason", {reason: c.pause_reason})));
  if (c.last_done) out.push(lastDone(c.last_done));
  var serves = el("p", "serves", t("supervisor.serves") + ": ");
  serves.appendChild(el("b", null, c.services.join(", ") || "—"));
  out.push(serves);
  var actions = el("div", "actions");
  var change = el("button", null, t("supervisor.change"));
  change.type = "button";
  change.className = "change";
  change.setAttribute("aria-expanded", editing[c.id] ? "true" : "false");
  change.addEventListener("click", function () { toggleEditor(c.id); });
  actions.appendChild(change);
  var note = notes[c.id];
  if (note && note.until > Date.now()) actions.appendChild(el("p", "note", note.text));
  out.push(actions);
  return out;
}

// The visit this counter finished last: its number and what it achieved (the officer's outcome).
function lastDone(d) {
  var p = el("p", "last");
  p.dataset.outcome = d.outcome || "";
  p.appendChild(el("span", "label", t("supervisor.last_done") + " "));
  p.appendChild(el("b", "num", d.number));
  var what = d.outcome ? t("desk.outcome_" + d.outcome) :
    d.status === "done" ? t("supervisor.outcome_none") : t("ticket_status." + d.status);
  p.appendChild(el("span", "outcome", " · " + what));
  if (d.procedure) {
    var proc = el("span", "procedure", " · " + d.procedure.code + " " + d.procedure.name);
    proc.title = d.procedure.name;
    p.appendChild(proc);
  }
  return p;
}

function counterById(id) { return data.counters.filter(function (c) { return c.id === id; })[0]; }

function toggleEditor(id) {
  var card = document.getElementById("counter-" + id);
  if (editing[id]) { editing[id].remove(); delete editing[id]; render(); return; }
  var c = counterById(id);
  var form = el("form", "edit");
  var set = el("fieldset");
  set.appendChild(el("legend", null, t("supervisor.change") + " — " + c.label));
  data.services.forEach(function (s) {
    var label = el("label");
    var box = el("input");
    box.type = "checkbox";
    box.name = "services";
    box.value = s.code;
    box.checked = c.services.indexOf(s.code) >= 0;
    label.appendChild(box);
    label.appendChild(el("span", null, s.code + " — " + s.name));
    set.appendChild(label);
  });
  form.appendChild(set);
  var error = el("p", "error");
  error.hidden = true;
  error.setAttribute("role", "alert");
  form.appendChild(error);
  var actions = el("div", "actions");
  var save = el("button", "primary", t("supervisor.save"));
  save.type = "submit";
  var cancel = el("button", null, t("supervisor.cancel"));
  cancel.type = "button";
  cancel.addEventListener("click", function () { toggleEditor(id); });
  actions.appendChild(save);
  actions.appendChild(cancel);
  form.appendChild(actions);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var codes = Array.prototype.slice.call(form.querySelectorAll("input:checked")).map(function (b) { return b.value; });
    save.disabled = true;
    save.textContent = t("supervisor.saving");
    error.hidden = true;
    api.call("PUT", cfg.services.replace("{id}", id), {services: codes}).then(function () {
      notes[id] = {text: t("supervisor.saved"), until: Date.now() + 8000};
      form.remove();
      delete editing[id];
      load();
    }).catch(function (err) {
      error.textContent = err.message || t("supervisor.failed");
      error.hidden = false;
      save.disabled = false;
      save.textContent = t("supervisor.save");
    });
  });
  editing[id] = form;
  card.appendChild(form);
  card.querySelector("button.change").setAttribute("aria-expanded", "true");
}

function renderQueues() {
  var body = document.getElementById("queues");
  var rows = [];
  data.services.forEach(function (s) {
    var tr = el("tr");
    tr.dataset.code = s.code;
    if (s.paused) tr.classList.add("paused");
    tr.appendChild(el("td", "code", s.code));
    var name = el("td", null, s.name);
    tr.appendChild(name);
    tr.appendChild(el("td", "n waiting", String(s.waiting)));
    tr.appendChild(el("td", "n", String(s.priority_waiting)));
    var wait = el("td", "n wait", "—");
    if (s.longest_wait_s != null) wait.dataset.since = Date.parse(data.now) - s.longest_wait_s * 1000;
    tr.appendChild(wait);
    // The kiosk's estimate for a number taken now (server/read/waits.py): the same minutes.
    tr.appendChild(el("td", "n expected", s.wait_minutes == null ? "—" :
      s.wait_minutes === 0 ? t("waits.none_waiting") : t("supervisor.minutes", {n: s.wait_minutes})));
    rows.push(tr);
    // No counter open with an officer at it: the kiosk says so too, and promises no minutes.
    if (s.open_counters === 0 && !s.paused) {
      var note = el("tr", "no-counter");
      note.dataset.noCounter = s.code;
      var cell = el("td", null, t("waits.no_open_counter"));
      cell.colSpan = 6;
      note.appendChild(cell);
      tr.classList.add("has-note");
      rows.push(note);
    }
  });
  body.replaceChildren.apply(body, rows);
}

// Today's completed visits by what they achieved, in the desk's order.
function renderOutcomes() {
  var box = document.getElementById("outcomes");
  var o = data.outcomes_today;
  var parts = [el("p", "total", o.done ? t("supervisor.outcomes_total", {n: o.done}) : t("supervisor.outcomes_empty"))];
  if (o.done) {
    Object.keys(o.by_outcome).concat(["none"]).forEach(function (name) {
      var n = name === "none" ? o.none : o.by_outcome[name];
      var row = el("span", "name", name === "none" ? t("supervisor.outcome_none") : t("desk.outcome_" + name));
      row.dataset.outcome = name;
      var bar = el("div", "meter o-" + name);
      var fill = el("span");
      fill.style.width = Math.round(100 * n / o.done) + "%";
      bar.appendChild(fill);
      var count = el("span", "n", String(n));
      count.dataset.outcome = name;
      parts.push(row, bar, count);
    });
  }
  box.replaceChildren.apply(box, parts);
}

function renderRatings() {
  var box = document.getElementById("ratings");
  var r = data.ratings_today;
  var total = r.count === 1 ? t("supervisor.ratings_total_one") : t("supervisor.ratings_total", {n: r.count});
  var parts = [el("p", "total", r.count ? total : t("supervisor.ratings_none"))];
  if (r.count) {
    ["4", "3", "2", "1"].forEach(function (level) {
      var n = r.by_level[level] || 0;
      parts.push(el("span", null, t("rating.level." + level)));
      var bar = el("div", "meter l" + level);
      var fill = el("span");
      fill.style.width = Math.round(100 * n / r.count) + "%";
      bar.appendChild(fill);
      parts.push(bar, el("span", "n", String(n)));
    });
  }
  box.replaceChildren.apply(box, parts);
}

// ------------------------------------------------------------ seat maps
// Side by side, columns as wide as each plan: every area at the same scale.
function renderSeats(areas) {
  var box = document.getElementById("seat-areas");
  document.getElementById("seats").hidden = areas.length === 0;
  box.style.gridTemplateColumns = areas.map(function (a) { return SeatMap.width(a).toFixed(2) + "fr"; }).join(" ");
  box.replaceChildren.apply(box, areas.map(function (a) {
    var fig = el("figure", "seat-area");
    fig.dataset.code = a.code;
    fig.appendChild(el("h3", null, a.code + " — " + (cfg.lang === "en" && a.name_en ? a.name_en : a.name)));
    fig.appendChild(el("p", "seat-summary", t("supervisor.seat_summary", {
      used: a.used, capacity: a.capacity, free: a.free, outside: a.outside})));
    fig.appendChild(SeatMap.draw(a, {words: cfg.t, lang: cfg.lang}));
    return fig;
  }));
}
// An office without areas (or a server without seating) has no panel: nothing to say.
var seats = new SeatMap.Store(cfg.areas, cfg.lang, renderSeats);
document.getElementById("seat-legend").appendChild(SeatMap.legend(cfg.t));
function pollSeats() { seats.load(); setTimeout(pollSeats, online ? 60000 : POLL_OFFLINE); }

// ------------------------------------------------------------ absent citizens
// GET /absent with each /live: those marked absent who may still come back, and for how long.
var absent = [];
function loadAbsent() {
  api.call("GET", cfg.absent)
    .then(function (json) { if (json) { absent = json.tickets; renderAbsent(); } })
    .catch(function () { /* the next load tries again */ });
}
function renderAbsent() {
  var rows = absent.filter(function (a) { return Date.parse(a.until) > now(); }).map(function (a) {
    var tr = el("tr");
    tr.dataset.number = a.number;
    tr.appendChild(el("td", "num" + (a.priority ? " prio" : ""), a.number));
    tr.appendChild(el("td", null, a.service_name));
    tr.appendChild(el("td", null, a.counter || "—"));
    var left = el("td", "n left");
    left.dataset.until = Date.parse(a.until);
    tr.appendChild(left);
    return tr;
  });
  document.getElementById("absent-none").hidden = rows.length > 0;
  document.getElementById("absent-table").hidden = rows.length === 0;
  var body = document.getElementById("absent");
  body.replaceChildren.apply(body, rows);
  tickAbsent();
}
function tickAbsent() {
  var at = now(), gone = false;
  document.querySelectorAll("#absent td.left").forEach(function (td) {
    var ms = Number(td.dataset.until) - at;
    if (ms <= 0) gone = true;
    td.textContent = duration(ms);
    td.parentNode.classList.toggle("ending", ms < 5 * 60000);
  });
  if (gone) renderAbsent();
}

// ------------------------------------------------------------ every second
function tick() {
  var at = now();
  tickAbsent();
  document.querySelectorAll(".timer[data-since]").forEach(function (p) {
    var ms = at - Number(p.dataset.since), kind = p.dataset.kind;
    var key = {serving: "serving_for", called: "called_for", idle: "idle_for", paused: "paused_since", closed: "closed_since"}[kind];
    p.textContent = t("supervisor." + key, {time: duration(ms)});
    p.className = "timer " + kind + (kind === "serving" && minutes(ms) >= cfg.long_wait[1] ? " long" : "");
  });
  document.querySelectorAll("#queues td.wait[data-since]").forEach(function (td) {
    var m = minutes(at - Number(td.dataset.since));
    td.textContent = duration(at - Number(td.dataset.since));
    var tr = td.parentNode;
    tr.classList.toggle("warn", m >= cfg.long_wait[0] && m < cfg.long_wait[1]);
    tr.classList.toggle("alert", m >= cfg.long_wait[1]);
  });
  Object.keys(notes).forEach(function (id) {
    if (notes[id].until <= Date.now()) { delete notes[id]; var n = document.querySelector("#counter-" + id + " .note"); if (n) n.remove(); }
  });
}

// ------------------------------------------------------------ live
function setOnline(value) {
  online = value;
  document.getElementById("offline").hidden = value;
  schedule();
}
// The snapshot comes on every (re)connect and after a gap in the office's events: read everything again.
var live = connect({
  onStatus: setOnline,
  onSnapshot: function () { soon(); seats.load(); DevicesPanel.load(); }
});
EVENTS.forEach(function (name) { live.on(name, soon); });
live.on("area_changed", function (ev) { seats.changed(ev); });
DevicesPanel.start(cfg, live);
setInterval(tick, 1000);
load();
pollSeats();
