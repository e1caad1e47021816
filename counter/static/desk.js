/* Quầy giao dịch: the officer's desk.

   The page holds one thing, the counter's state as GET /api/v1/counters/<id> gives it,
   and derives every button from it. An action disables every button until its reply and
   the state read after it; the server decides anyway. Socket.IO events (and a 20 s poll)
   make it read the state again, so two tabs of one officer show the same. */
import { ApiError, client } from "/static/js/api.js";
import { $, readJson } from "/static/js/dom.js";
import { connect } from "/static/js/live.js";
import { fill as fmt } from "/static/js/words.js";
import { outcomePanel } from "./outcome.js";

const data = readJson("desk-data");
const W = data.words;
const ID = data.counter.id;
let counter = data.counter;
let busy = false;
let clockOffset = 0;          // server time minus ours, from the Date header
let requested = 0, applied = 0;
let office = null;            // services and counters, for the transfer dialog
let flashTimer = null;
let transferring = null;      // the ticket the transfer dialog is about
let socketDown = false;       // the live connection dropped: say so at once, once
let fetchDown = false;        // the last request found no server (or no database)
let gates = "";               // what the countdowns last enabled (see everySecond)

// ---------------------------------------------------------------- talking to the server
const http = client({
  csrf: data.csrf, lang: data.lang,
  onResponse: (r) => {  // the server's clock, from the Date header
    const date = Date.parse(r.headers.get("Date") || "");
    if (!isNaN(date) && Math.abs(date - Date.now() - clockOffset) > 2000) clockOffset = date - Date.now();
  },
});

async function api(method, path, body) {
  let reply;
  try {
    reply = await http.call(method, path, body);
  } catch (e) {
    if (e.offline || e.status === 503) {  // no server, or the server is up and its database is not: one banner
      setOffline("fetch", true);
      throw new ApiError(W.offline);
    }
    setOffline("fetch", false);
    if (e.status === 401 || e.code === "not_your_counter") {
      // Logged out, expired, or the counter is someone else's now: the start page sorts it out.
      setTimeout(() => { location.href = data.home; }, 1500);
    }
    throw e;
  }
  setOffline("fetch", false);
  return reply;
}

// What the visit achieved: the panel under the ticket, its keys 1–6 (see outcome.js).
const outcome = outcomePanel({ W, api, office: data.office, shortcut: (key) => trigger(actionOf(key, false)) });

async function load() {
  const mine = ++requested;
  const state = await api("GET", "/counters/" + ID);
  if (mine < applied) return;  // an older read answered late: a newer one is already shown
  applied = mine;
  counter = state;
  render();
}

/* One banner for both signs of an outage: the socket dropping (at once, before
   anyone presses a key) and a request failing. Failed actions do not repeat it. */
function setOffline(source, down) {
  if (source === "socket") socketDown = down; else fetchDown = down;
  $("offline").hidden = !(socketDown || fetchDown);
}

let pending = null;
function schedule() {  // many events arrive together: read once
  clearTimeout(pending);
  pending = setTimeout(() => { load().catch(() => {}); }, 150);
}

// ---------------------------------------------------------------- time
const now = () => Date.now() + clockOffset;
const secondsUntil = (iso) => Math.ceil((Date.parse(iso) - now()) / 1000);

/* Seconds before "absent" may be pressed for the ticket called (the office's minimum). */
function noShowWait() {
  const cur = counter.current;
  if (!cur || cur.status !== "called" || !counter.min_no_show_s || !cur.called_at) return 0;
  return Math.max(0, counter.min_no_show_s - Math.floor((now() - Date.parse(cur.called_at)) / 1000));
}

/* The ticket just marked absent here that "Undo" would call again (the counter idle). */
function undoable() {
  if (counter.current || counter.status === "closed") return null;
  return (counter.absent || []).find((a) => a.undo_until && secondsUntil(a.undo_until) > 0) || null;
}

/* Those marked absent here who may still come back. */
const absentNow = () => (counter.absent || []).filter((a) => secondsUntil(a.until) > 0);

// ---------------------------------------------------------------- what is allowed now
function allowed() {
  const st = counter.status, cur = counter.current, cs = cur && cur.status;
  return {
    undo: !!undoable(),
    open: st === "closed",
    pause: st === "open",
    resume: st === "paused",
    close: st !== "closed" && !cur,
    next: st === "open" && !cur,
    number: st === "open" && !cur,
    complete_next: st === "open" && !!cur,
    recall: cs === "called",
    start: cs === "called",
    no_show: cs === "called" && noShowWait() === 0,
    complete: cs === "called" || cs === "serving",
    transfer: cs === "called" || cs === "serving",
  };
}

// ---------------------------------------------------------------- drawing
function hhmm(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
}

function render() {
  const ok = allowed();
  document.body.dataset.status = counter.status;
  $("counter-label").textContent = counter.label;
  $("status-pill").textContent = W["status_" + counter.status] || counter.status;
  const since = counter.status_since ? fmt(W.since, { time: hhmm(counter.status_since) }) : "";
  $("status-detail").textContent = [counter.status === "paused" ? counter.pause_reason : "", since]
    .filter(Boolean).join(" · ");
  if (counter.officer) $("officer-name").textContent = counter.officer.name || counter.officer.username;

  $("btn-open").hidden = counter.status !== "closed";
  $("btn-pause").hidden = counter.status === "paused";
  $("btn-resume").hidden = counter.status !== "paused";
  document.querySelectorAll("button[data-action]").forEach((b) => {
    b.disabled = busy || !ok[b.dataset.action];
  });
  document.querySelectorAll(".dlg button[type=submit]").forEach((b) => { b.disabled = busy; });

  const cur = counter.current;
  const box = $("current");
  box.dataset.state = cur ? cur.status : "none";
  $("current-number").textContent = cur ? cur.number : "—";
  $("current-service").textContent = cur ? cur.service_name : "";
  $("current-state").textContent = cur ? (cur.status === "serving" ? W.serving : W.called) : W.idle;
  $("current-priority").hidden = !(cur && cur.priority);
  // the priority group's name (issue 19), when the ticket names one
  $("current-priority").textContent = cur && cur.priority_group_name ? W.priority + ": " + cur.priority_group_name : W.priority;
  $("current-recalls").textContent = cur && cur.recalls ? fmt(W.recalls, { n: cur.recalls }) : "";
  $("current-note").hidden = !(cur && cur.note);  // a guide's words at the entrance
  $("current-note-text").textContent = cur && cur.note ? cur.note : "";
  $("timer-box").hidden = !cur;
  $("hint").textContent = cur ? "" : W["hint_" + counter.status] || "";
  outcome.render(cur);
  gates = gateKey();
  tick();
  renderQueues();
  renderAbsent();
  if ($("dlg-transfer").open) {
    if (!cur || cur.id !== transferring) $("dlg-transfer").close();  // another tab finished it
    else checkTransfer();
  }
}

function renderQueues() {
  const list = $("queues");
  list.textContent = "";
  for (const code of counter.services) {
    const q = counter.queues[code];
    if (!q) continue;
    const li = document.createElement("li");
    li.className = "queue";
    li.dataset.code = code;
    const head = document.createElement("div");
    head.className = "queue-head";
    const name = document.createElement("span");
    name.className = "queue-name";
    name.textContent = q.name;
    const count = document.createElement("span");
    count.className = "queue-count";
    count.textContent = q.waiting;
    const small = document.createElement("small");
    small.textContent = W.waiting;
    count.append(small);
    head.append(name, count);
    li.append(head);
    if (q.paused) {
      const p = document.createElement("p");
      p.className = "queue-paused";
      p.textContent = W.service_paused;
      li.append(p);
    }
    const chips = document.createElement("div");
    chips.className = "chips";
    if (!q.next.length) {
      const e = document.createElement("span");
      e.className = "empty";
      e.textContent = W.nobody;
      chips.append(e);
    }
    for (const t of q.next) {
      const c = document.createElement("span");
      c.className = "chip" + (t.priority ? " prio" : "");
      c.textContent = t.number;
      if (t.priority) c.title = t.group ? W.priority + ": " + t.group : W.priority;
      if (t.group) {
        const gname = document.createElement("small");
        gname.className = "chip-group";
        gname.textContent = t.group;
        c.append(gname);
      }
      chips.append(c);
    }
    li.append(chips);
    list.append(li);
  }
  if (!$("legend")) {
    const legend = document.createElement("p");
    legend.id = "legend";
    legend.className = "legend";
    legend.textContent = "★ " + W.priority;
    list.after(legend);
  }
}

function renderAbsent() {
  const list = $("absent"), rows = absentNow();
  $("absent-box").hidden = !rows.length;
  list.textContent = "";
  const canCall = counter.status === "open" && !counter.current;
  for (const a of rows) {
    const li = document.createElement("li");
    li.className = "absent-row";
    li.dataset.number = a.number;
    const head = document.createElement("div");
    head.className = "absent-head";
    const num = document.createElement("span");
    num.className = "absent-number" + (a.priority ? " prio" : "");
    num.textContent = a.number;
    const info = document.createElement("span");
    info.className = "absent-info";
    info.textContent = a.service_name + " · " + fmt(W.absent_at, { time: hhmm(a.absent_at) });
    const left = document.createElement("span");
    left.className = "absent-left";
    left.dataset.until = a.until;
    head.append(num, info, left);
    const buttons = document.createElement("div");
    buttons.className = "absent-buttons";
    const call = document.createElement("button");
    call.type = "button";
    call.className = "btn small absent-call";
    call.textContent = W.absent_call;
    call.disabled = busy || !canCall;
    call.title = canCall ? "" : W.absent_call_idle;
    call.addEventListener("click", () => callAgain(a));
    const back = document.createElement("button");
    back.type = "button";
    back.className = "btn small quiet absent-requeue";
    back.textContent = W.absent_requeue;
    back.disabled = busy;
    back.addEventListener("click", () => putBack(a));
    buttons.append(call, back);
    li.append(head, buttons);
    list.append(li);
  }
  tickAbsent();
}

function leftText(seconds) {
  const m = Math.ceil(seconds / 60);
  return seconds < 60 ? W.left_under_minute : fmt(W.left_minutes, { n: m });
}

function tickAbsent() {
  document.querySelectorAll(".absent-left").forEach((el) => {
    el.textContent = leftText(Math.max(0, secondsUntil(el.dataset.until)));
  });
  const u = undoable();
  $("undo").hidden = !u;
  if (u) {
    $("undo-text").textContent = fmt(W.undo_text, { number: u.number });
    $("undo-left").textContent = fmt(W.undo_left, { n: Math.max(0, secondsUntil(u.undo_until)) });
  }
  const wait = noShowWait();
  $("no-show-wait").hidden = !wait;
  $("btn-no-show").classList.toggle("counting", !!wait && !busy);
  $("no-show-wait").textContent = wait ? fmt(W.no_show_in, { n: wait }) : "";
}

/* What the countdowns decide (V allowed yet, undo still offered, who is listed):
   when it changes, the buttons are drawn again. */
function gateKey() {
  const u = undoable();
  return [noShowWait() === 0, u ? u.id : "", absentNow().map((a) => a.id).join(",")].join("|");
}

function everySecond() {
  if (gateKey() !== gates) render();
  else tick();
}

function tick() {
  tickAbsent();
  const cur = counter.current;
  if (!cur) return;
  const from = cur.status === "serving" && cur.started_at ? cur.started_at : cur.called_at;
  const s = Math.max(0, Math.floor((Date.now() + clockOffset - Date.parse(from)) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  $("timer").textContent = (h ? h + ":" + two(m) : two(m)) + ":" + two(sec);
  $("timer-label").textContent = fmt(W.since, { time: hhmm(from) });
}

function flash(text, kind) {
  const el = $("flash");
  el.textContent = text;
  el.className = "banner flash" + (kind === "info" ? " info" : "");
  el.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { el.hidden = true; }, 8000);
}

// ---------------------------------------------------------------- doing
/* One action at a time: everything is disabled until the reply and a fresh state. */
async function run(work, errorBox) {
  if (busy) return false;
  busy = true;
  render();
  let done = false;
  try {
    await work();
    done = true;
    if (!errorBox) $("flash").hidden = true;
  } catch (e) {
    if (e.offline && !errorBox) {
      $("flash").hidden = true;  // the offline banner says it, once
    } else if (errorBox) {
      errorBox.textContent = e.message;
      errorBox.className = "dlg-error";
      errorBox.hidden = false;
    } else {
      flash(e.message);
    }
  }
  try { await load(); } catch (e) { /* the banner says so */ }
  busy = false;
  render();
  return done;
}

const post = (path, body) => api("POST", path, body);
const ticketPath = (action) => "/tickets/" + counter.current.id + "/" + action;

const ACTIONS = {
  next: () => run(async () => {
    if ((await post("/counters/" + ID + "/call-next")) === null) flash(W.none_left, "info");
  }),
  complete_next: () => run(async () => {
    const done = recorded();
    if ((await post("/counters/" + ID + "/call-next", { complete_current: true, ...outcome.body() })) === null) {
      flash(W.none_left, "info");
    } else if (done) flash(done, "info");
  }),
  recall: () => run(() => post(ticketPath("recall"))),
  start: () => run(() => post(ticketPath("start"))),
  complete: () => run(async () => {
    const done = recorded();
    await post(ticketPath("complete"), outcome.body());
    if (done) flash(done, "info");
  }),
  no_show: () => run(() => post(ticketPath("no-show"))),
  undo: () => {
    const u = undoable();
    if (!u) return;
    run(async () => {
      await post("/counters/" + ID + "/undo-no-show", { ticket: u.id });
      flash(fmt(W.undone, { number: u.number }), "info");
    });
  },
  open: () => run(() => post("/counters/" + ID + "/open")),
  close: () => run(() => post("/counters/" + ID + "/close")),
  resume: () => run(() => post("/counters/" + ID + "/resume")),
  pause: () => openPause(),
  transfer: () => openTransfer(),
  number: () => openNumber(),
};

/* The line said once a ticket is completed with an outcome (before the panel clears). */
function recorded() {
  const chosen = outcome.summary();
  return chosen ? fmt(W.outcome_recorded, { number: counter.current.number, outcome: chosen }) : "";
}

function callAgain(a) {
  run(() => post("/counters/" + ID + "/call", { number: a.number }));
}

function putBack(a) {
  run(async () => {
    await post("/tickets/" + a.id + "/requeue", { keep_place: true });
    flash(fmt(W.requeued, { number: a.number }), "info");
  });
}

function trigger(action) {
  if (!action) return;
  const button = document.querySelector(`button[data-action="${action}"]`);
  if (!button || button.disabled || button.hidden) return;
  ACTIONS[action]();
}

document.querySelectorAll("button[data-action]").forEach((b) => {
  b.addEventListener("click", () => { b.blur(); trigger(b.dataset.action); });
});

// ---------------------------------------------------------------- dialogs
function showDialog(id) {
  const dlg = $(id);
  dlg.querySelectorAll(".dlg-error").forEach((e) => { e.hidden = true; });
  dlg.showModal();
  return dlg;
}

document.querySelectorAll(".dlg [data-close]").forEach((b) => {
  b.addEventListener("click", () => b.closest("dialog").close());
});

function openNumber() {
  $("number-input").value = "";
  showDialog("dlg-number");
  $("number-input").focus();
}

$("form-number").addEventListener("submit", async (e) => {
  e.preventDefault();
  const number = $("number-input").value.trim();
  if (!number) return;
  if (await run(() => post("/counters/" + ID + "/call", { number }), $("number-error"))) {
    $("dlg-number").close();
  }
});

function openPause() {
  $("pause-reason").value = "";
  document.querySelectorAll(".preset").forEach((b) => b.setAttribute("aria-pressed", "false"));
  showDialog("dlg-pause");
  $("pause-reason").focus();
}

document.querySelectorAll(".preset").forEach((b) => {
  b.addEventListener("click", () => {
    document.querySelectorAll(".preset").forEach((o) => o.setAttribute("aria-pressed", String(o === b)));
    $("pause-reason").value = b.dataset.reason;
  });
});
$("pause-reason").addEventListener("input", () => {
  document.querySelectorAll(".preset").forEach((o) =>
    o.setAttribute("aria-pressed", String(o.dataset.reason === $("pause-reason").value)));
});

$("form-pause").addEventListener("submit", async (e) => {
  e.preventDefault();
  const reason = $("pause-reason").value.trim();
  if (await run(() => post("/counters/" + ID + "/pause", reason ? { reason } : {}), $("pause-error"))) {
    $("dlg-pause").close();
  }
});

async function openTransfer() {
  const cur = counter.current;
  if (!office) {
    try {
      office = await api("GET", "/offices/" + data.office);
    } catch (e) {
      if (!e.offline) flash(e.message);
      return;
    }
  }
  transferring = cur.id;
  $("transfer-title").textContent = fmt(W.transfer_title, { number: cur.number });
  const services = $("transfer-service");
  services.textContent = "";
  for (const sv of office.services) {
    services.append(new Option(sv.name, sv.code, false, sv.code === cur.service));
  }
  const counters = $("transfer-counter");
  counters.textContent = "";
  counters.append(new Option(W.any_counter, ""));
  for (const c of office.counters) {
    if (c.id !== ID) counters.append(new Option(c.label, String(c.id)));
  }
  $("transfer-keep").checked = true;
  $("transfer-note").value = "";
  showDialog("dlg-transfer");
  checkTransfer();
  services.focus();
}

function chosenCounter() {
  const id = Number($("transfer-counter").value);
  return id ? office.counters.find((c) => c.id === id) : null;
}

/* A counter serves some services: keep the service choice to one it serves. */
function checkTransfer() {
  const target = chosenCounter(), services = $("transfer-service");
  for (const opt of services.options) opt.disabled = !!target && !target.services.includes(opt.value);
  if (target && !target.services.includes(services.value)) services.value = target.services[0];
  const same = !target && counter.current && services.value === counter.current.service;
  const box = $("transfer-error");
  box.hidden = !same;
  box.className = "dlg-error note";
  box.textContent = same ? W.same_place : "";
  $("transfer-submit").disabled = busy || same;
}
$("transfer-counter").addEventListener("change", checkTransfer);
$("transfer-service").addEventListener("change", checkTransfer);

$("form-transfer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const cur = counter.current;
  if (!cur) return;
  const target = chosenCounter();
  const body = { service: $("transfer-service").value, keep_place: $("transfer-keep").checked };
  if (target) body.counter = target.id;
  const note = $("transfer-note").value.trim();
  if (note) body.note = note;
  const ok = await run(() => post("/tickets/" + cur.id + "/transfer", body), $("transfer-error"));
  if (ok) {
    $("dlg-transfer").close();
    flash(fmt(W.transferred, { number: cur.number }), "info");
  }
});

// ---------------------------------------------------------------- keyboard
const KEYS = { r: "recall", s: "start", c: "complete", v: "no_show", t: "transfer", n: "number", h: "undo" };
document.addEventListener("keydown", (e) => {
  if (e.repeat || e.ctrlKey || e.altKey || e.metaKey) return;
  if (document.querySelector("dialog[open]")) return;  // typing in a dialog is typing
  const t = e.target;
  if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  // A ticket at the counter: the outcome keys, and a scanner typing a receipt code.
  if (counter.current && outcome.key(e)) { e.preventDefault(); return; }
  const action = actionOf(e.key, e.shiftKey);
  if (!action) return;
  e.preventDefault();
  trigger(action);
});

function actionOf(key, shift) {
  if (key === "Enter" && shift) return "complete_next";
  if (key === " " || key === "Enter") return "next";
  if (key.toLowerCase() === "p") return counter.status === "paused" ? "resume" : "pause";
  return KEYS[key.toLowerCase()];
}

// ---------------------------------------------------------------- live
// The snapshot comes on every (re)connect (events may have been missed) and after a gap.
const live = connect({ onStatus: (online) => setOffline("socket", !online), onSnapshot: schedule });
for (const name of ["ticket_called", "ticket_changed", "queue_changed", "counter_changed"]) live.on(name, schedule);
setInterval(() => { if (!busy) load().catch(() => {}); }, 20000);
document.addEventListener("visibilitychange", () => { if (!document.hidden) schedule(); });
setInterval(everySecond, 500);
render();
