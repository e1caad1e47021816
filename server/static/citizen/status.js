// The citizen's ticket status page, kept live.
//
// - Socket.IO with auth {ticket: TOKEN}: the server puts this page in its ticket's room only
//   and sends "ticket" (a snapshot) on every (re)connect; "ticket_called" / "ticket_changed"
//   about this ticket arrive as they happen.
// - People ahead and the wait change when OTHER tickets move: the page is also in its
//   service's room, where one "queue_moved" per change (a call, a cancel, a counter opening)
//   makes every waiting page re-read its own JSON within a second (spread out, so a call does
//   not bring every phone at the same instant). A re-read every 60 s, and whenever the phone
//   shows the page again, covers a missed message. No counter open: no minutes, and why.
// - When called: banner, chime (after the one tap that browsers require), vibration.
// - Seats (docs/seating.md): "Ghế số N" while waiting inside, a notice while waiting outside.
//   A seat change of a waiting ticket (called in from outside, moved, sent outside) rings too;
//   it is seen by comparing what was shown with what came, so a "ticket_seated" event, a
//   re-read and a reconnect's snapshot all lead to the same screen. The page is in one ticket's
//   room, not the office's: its live client takes events as they come (no office seq to follow).
import { client } from "/static/js/api.js";
import { $, restart, readJson, show } from "/static/js/dom.js";
import { connect } from "/static/js/live.js";
import { fill } from "/static/js/words.js";
import { phoneBox } from "/static/citizen/status_phone.js";

var root = $("status");
var token = root.dataset.token, lang = root.dataset.lang;
var initial = readJson("status-data");
var W = Object.assign({}, initial.seat_words, initial.words);
var url = "/public/tickets/" + encodeURIComponent(token) + "?lang=" + encodeURIComponent(lang);
var api = client();
var POLL_MS = 60000;
var REFUSED_POLL_MS = 15000;  // live connection refused (too many open): re-read this often
var REFUSED_RETRY_MS = 120000;  // and try it again after this
var MOVED_SPREAD_MS = 1000;  // queue_moved: re-read within this, at random
var ACTIVE = { waiting: 1, called: 1, serving: 1 };

var ticket = null;          // what is shown
var seatNews = null;        // {kind: "called_in" | "moved", seat}: shown while it waits at that seat
var gen = 0;                // bumped by each live event: a re-read begun before it is stale
var audio = new Audio(root.dataset.chime || "/static/sounds/chime.wav");
audio.preload = "auto";
var soundOn = false;
var phone = phoneBox(api, token, lang, W, function (t, fromServer) { render(t, fromServer); });

function cap(s) { return s ? s.charAt(0).toUpperCase() + s.slice(1) : s; }
function two(n) { return (n < 10 ? "0" : "") + n; }
// "... {n} ...", with n in its own big span.
function sentence(el, text, value, cls) {
  var parts = text.split("{n}");
  el.textContent = "";
  el.appendChild(document.createTextNode(parts[0]));
  var n = document.createElement("span");
  n.className = cls;
  n.textContent = value;
  el.appendChild(n);
  if (parts[1]) el.appendChild(document.createTextNode(parts[1]));
}

// What happened to the seat of a ticket that waited and still waits, or null.
function seatChange(before, t) {
  if (!before || before.status !== "waiting" || t.status !== "waiting") return null;
  if (before.location === "outside" && t.location === "inside" && t.seat) return "called_in";
  if (before.location === "inside" && t.location === "outside") return "sent_outside";
  if (t.location === "inside" && before.seat && t.seat && before.seat !== t.seat) return "moved";
  return null;
}

function render(t, fromServer) {
  var before = ticket;
  ticket = t;
  root.className = "status st-" + t.status;
  $("number").textContent = t.number;
  $("service").textContent = t.service_name || t.service;
  show($("priority"), !!t.priority);
  $("state").textContent = cap(W["status_" + t.status] || t.status);

  // Called: the big banner. "Mời quý khách đến quầy số <N>", N in its own huge span.
  var called = t.status === "called";
  show($("called"), called);
  if (called) {
    sentence($("invite"), W.go_to, t.counter_number != null ? t.counter_number : (t.counter || ""), "counter-no");
    // "Quầy 1" under "Mời quý khách đến quầy số 1" says nothing more: only a longer label shows.
    var label = t.counter || "";
    $("counter-label").textContent = label;
    show($("counter-label"), !!label && label.toLowerCase() !== ("quầy " + t.counter_number).toLowerCase() &&
         label.toLowerCase() !== ("counter " + t.counter_number).toLowerCase());
    $("called-number").textContent = t.number;
  }

  var waiting = t.status === "waiting";
  var inside = waiting && t.location !== "outside" && !!t.seat;
  var change = seatChange(before, t);
  if (change === "called_in" || change === "moved") seatNews = { kind: change, seat: t.seat };
  if (seatNews && !(inside && t.seat === seatNews.seat)) seatNews = null;
  show($("seated"), !!seatNews);
  if (seatNews) sentence($("seated-invite"), seatNews.kind === "called_in" ? W.called_in : W.moved_to, seatNews.seat, "seat-no");
  show($("seat"), inside);
  if (inside) $("seat").textContent = fill(W.seat_number, { n: t.seat });
  show($("outside"), waiting && t.location === "outside");
  show($("facts"), waiting && t.position > 0);
  $("facts").classList.toggle("no-wait", !!t.no_open_counter);
  if (waiting && t.position != null) $("ahead").textContent = t.position;
  // The minutes as the kiosk showed and printed them (server/read/waits.py): none when next, none without a counter.
  show($("wait-fact"), waiting && !t.no_open_counter && t.wait_minutes > 0);
  if (t.wait_minutes > 0) $("wait").textContent = fill(W.wait, { m: t.wait_minutes });
  show($("no-counter"), waiting && !!t.no_open_counter);
  var note = "";
  if (waiting && t.position === 0) note = W.next;
  else if (t.status === "serving") note = fill(W.serving, { counter: t.counter || "" });
  else if (t.status === "done") note = W.done;
  else if (t.status === "no_show") {
    // Within the office's window the citizen may still come back: say until when, and where.
    var back = t.comeback_until && t.comeback_local && Date.parse(t.comeback_until) > Date.now();
    note = back ? fill(W.no_show_back, { time: t.comeback_local, counter: t.counter || "" }) : W.no_show;
  }
  else if (t.status === "cancelled") note = W.cancelled;
  else if (t.status === "expired") note = W.expired;
  $("note").textContent = note;

  // The documents to bring (drawn by the page): useful until the visit is over.
  if ($("documents")) show($("documents"), !!ACTIVE[t.status]);

  var cancellable = waiting;  // once called, the citizen is expected at the counter
  show($("cancel-box"), cancellable);
  if (!cancellable) show($("confirm"), false), show($("cancel"), true);
  $("confirm-text").textContent = fill(W.cancel_confirm, { number: t.number });
  phone(t);
  show($("sound"), !soundOn && (waiting || called));
  show($("sound-ready"), soundOn && (waiting || called));

  if (fromServer) {
    var d = new Date();
    $("updated").textContent = fill(W.updated, { time: two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()) });
  }
  // Newly called (not on first sight of an already-called ticket): sound and vibration.
  if (called && before && before.status !== "called") ring($("called"));
  else if (change) ring(change === "sent_outside" ? $("outside") : $("seated"));
}

function ring(banner) {
  root.dataset.rings = (+root.dataset.rings || 0) + 1;  // for tests and curious people
  if (navigator.vibrate) { try { navigator.vibrate([300, 100, 300]); } catch (e) { /* not allowed */ } }
  try {
    audio.currentTime = 0;
    var p = audio.play();
    if (p && p.then) p.then(function () { root.dataset.sound = "played"; },
                            function () { root.dataset.sound = "blocked"; show($("sound"), true); });
  } catch (e) { /* no audio on this phone: the banner is enough */ }
  restart(banner, "flash");
}

// ------------------------------------------------------------ reading the ticket
var inFlight = false, again = false;
function refresh() {
  if (inFlight) { again = true; return; }
  inFlight = true;
  var asked = gen;
  api.call("GET", url)
    .then(function (t) {
      // An answer begun before a live event may predate it: the event's own re-read follows.
      if (t && asked === gen) render(t, true);
      else if (t) again = true;
    })
    .catch(function () { /* offline: the next poll or reconnect tries again */ })
    .then(function () {
      inFlight = false;
      if (again) { again = false; refresh(); }
    });
}
setInterval(function () {
  if (ticket && ACTIVE[ticket.status] && !document.hidden) refresh();
}, POLL_MS);
document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });

// ------------------------------------------------------------ live events
// Refused while the database is down: try again after 5 s. Refused because too many sockets
// are open (this ticket in many tabs, or one address for a whole lobby): say why, re-read
// every 15 s instead, and try the live connection again later.
var fallback = null, offlineText = $("offline").textContent;
var live = connect({
  auth: { ticket: token, lang: lang }, sequenced: false, socket: { transports: ["polling", "websocket"] },
  retry: function (err) {
    if (err && err.message === "database_unavailable") return 5000;
    return err && String(err.message).indexOf("too_many_sockets") === 0 ? REFUSED_RETRY_MS : null;
  },
  onStatus: function (online, err) {
    if (online) {
      if (fallback) { clearInterval(fallback); fallback = null; }
      delete root.dataset.refused;
      $("offline").textContent = offlineText;
      return;
    }
    show($("offline"), true);
    if (!err || live.socket.active || String(err.message).indexOf("too_many_sockets") !== 0) return;
    root.dataset.refused = err.message;  // for tests and curious people
    if (err.data && err.data.message) $("offline").textContent = "· " + err.data.message;
    if (!fallback) fallback = setInterval(function () {
      if (ticket && ACTIVE[ticket.status] && !document.hidden) refresh();
    }, REFUSED_POLL_MS);
  }
});
if (live.socket) {
  live.on("ticket", function (t) { show($("offline"), false); gen += 1; render(t, true); });
  live.on("ticket_called", function (ev) {
    if (!ticket || ev.id !== ticket.id) return;
    // Show the banner at once from the event, then read the whole ticket.
    var again = ticket.status === "called";
    gen += 1;
    render(Object.assign({}, ticket, { status: "called", counter: ev.counter, counter_number: ev.counter_number }), false);
    if (again) ring($("called"));  // a recall rings again
    refresh();
  });
  live.on("ticket_changed", function (ev) {
    if (!ticket || ev.id !== ticket.id) return;
    gen += 1;
    // Sent to another service: rejoin, so its "queue_moved" reaches this page.
    if (ev.service && ev.service !== ticket.service) live.reconnect();
    refresh();
  });
  var movedTimer = null;
  live.on("queue_moved", function (ev) {
    if (!ticket || ticket.status !== "waiting" || (ev && ev.service !== ticket.service) || movedTimer) return;
    movedTimer = setTimeout(function () { movedTimer = null; refresh(); }, Math.random() * MOVED_SPREAD_MS);
  });
  live.on("ticket_seated", function (ev) {
    if (!ticket || ev.id !== ticket.id) return;
    gen += 1;
    render(Object.assign({}, ticket, { seat: ev.seat, location: ev.location, area: ev.area }), false);
    refresh();
  });
}

// ------------------------------------------------------------ sound: one tap unlocks it
$("sound").addEventListener("click", function () {
  audio.currentTime = 0;
  var p = audio.play();  // in the tap itself: from now on this page may play it
  soundOn = true;
  if (p && p.catch) p.catch(function () { soundOn = false; render(ticket, false); });
  render(ticket, false);
});

// ------------------------------------------------------------ cancelling: two steps
$("cancel").addEventListener("click", function () {
  show($("cancel"), false);
  show($("confirm"), true);
  show($("cancel-error"), false);
  $("cancel-no").focus();
});
$("cancel-no").addEventListener("click", function () {
  show($("confirm"), false);
  show($("cancel"), true);
});
$("cancel-yes").addEventListener("click", function () {
  var yes = $("cancel-yes");
  yes.disabled = true;
  api.call("POST", "/public/tickets/" + encodeURIComponent(token) + "/cancel?lang=" + encodeURIComponent(lang))
    .then(function (body) { show($("confirm"), false); show($("cancel"), true); render(body, true); })
    .catch(function (e) {
      var err = $("cancel-error");
      err.textContent = fill(W.cancel_failed, { message: e.message || "" });
      show(err, true);
      show($("confirm"), false);
      show($("cancel"), true);
      refresh();
    })
    .then(function () { yes.disabled = false; });
});

render(initial.ticket, true);
