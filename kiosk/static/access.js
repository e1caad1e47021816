/* Máy lấy số for everyone (issue 19): two buttons in the header, on every screen.
 *
 * "Chữ lớn" turns on large, high-contrast text (access.css: white and yellow on black,
 * at least 7:1). "Đọc to" reads the screen aloud with the lobby's offline voice: the
 * page asks GET /kiosk/<office>/speech.wav for the screen it shows (kiosk/readaloud.py
 * builds the words on the server from what the screen is, never from text sent here),
 * and, while it is on, reads each new screen too: the ticket's number and what to do
 * next once it is issued, holding the ticket screen until the words end.
 *
 * Both reset when the citizen leaves: when the ticket screen goes back to the start, and
 * when the kiosk resets itself after a minute without a touch (kiosk.js calls reset()).
 */
import { $ } from "/static/js/dom.js";

var AFTER_WORDS_MS = 4000;  // the ticket stays this long after its words end
var SETTLE_MS = 250;        // a screen that changes twice at once is read once
var TITLES = ["error.title", "checkin.early_title", "checkin.late_title", "checkin.not_found_title",
              "checkin.cancelled_title", "lookup.not_found_title", "idcard.unreadable_title", "idcard.cap_title",
              "idcard.off_title", "idcard.required_title"];  // kiosk/spoken.py TITLES

var kiosk = null;  // what kiosk.js lends: see accessTools
var mode = { large: false, reading: false };
var voice = { log: [], current: null };  // every clip asked for (the tests read it)
var audio = null;
var settle = null;

function setLarge(on) {
  mode.large = on;
  document.body.classList.toggle("access-large", on);
  $("access-large").setAttribute("aria-pressed", String(on));
  fitServices();
}

function setReading(on) {
  mode.reading = on;
  var b = $("access-read");
  b.setAttribute("aria-pressed", String(on));
  b.querySelector(".access-label").dataset.t = on ? "access.stop" : "access.read";
  b.querySelector(".access-label").textContent = kiosk.t(on ? "access.stop" : "access.read");
  if (!on) stop();
}

// ------------------------------------------------------------------ fitting

// In large text a long service name ("Labour, war invalids and social affairs") may not fit
// its button: its letters shrink, step by step, to 60 % at most, until all of it shows.
var fitting = 0;

function fitServices() {
  fitting = 0;
  document.querySelectorAll("#services .svc").forEach(function (b) {
    var name = b.querySelector(".svc-name");
    if (!name) return;
    name.style.fontSize = "";
    if (!mode.large || !b.offsetParent) return;
    var px = parseFloat(getComputedStyle(name).fontSize), least = px * 0.6;
    while (b.scrollHeight > b.clientHeight + 1 && px > least) {
      px *= 0.92;
      name.style.fontSize = px + "px";
    }
  });
}

function fitSoon() {
  if (!fitting) fitting = requestAnimationFrame(fitServices);
}

// ------------------------------------------------------------------ what the screen is

function serviceCode(name) {
  var services = (kiosk.state.office && kiosk.state.office.services) || [];
  for (var i = 0; i < services.length; i++) if (services[i].name === name) return services[i].code;
  return null;
}

function procedureCode(name) {
  var found = null;
  document.querySelectorAll("#proc-list .proc").forEach(function (b) {
    var n = b.querySelector(".proc-name");
    if (n && n.textContent === name) found = b.dataset.code;
  });
  return found;
}

function titleKey(text) {
  for (var i = 0; i < TITLES.length; i++) if (kiosk.t(TITLES[i]) === text) return TITLES[i];
  return "error.title";
}

// The address of the screen's words, or null when what it shows cannot be named.
export function speechUrl() {
  var st = kiosk.state;
  var q = { token: kiosk.token, lang: st.lang, screen: st.screen };
  if (st.screen === "start" && st.priority) q.priority = "1";
  else if (st.screen === "procedures") q.service = serviceCode($("proc-service").textContent);
  else if (st.screen === "online") q.procedure = procedureCode($("online-name").textContent);
  else if (st.screen === "ticket") q.ticket = st.ticket && st.ticket.id;
  else if (st.screen === "message") q.title = titleKey($("message-title").textContent);
  var parts = [];
  for (var k in q) {
    if (q[k] === null || q[k] === undefined || q[k] === "") return null;
    parts.push(k + "=" + encodeURIComponent(q[k]));
  }
  return "/kiosk/" + encodeURIComponent(kiosk.office) + "/speech.wav?" + parts.join("&");
}

// ------------------------------------------------------------------ the voice

function read() {
  stop();
  var url = speechUrl();
  if (!url) return;
  var entry = { url: url, screen: kiosk.state.screen, start: Date.now(), end: null, outcome: null };
  voice.log.push(entry);
  voice.current = entry;
  audio.src = url;
  var played;
  try { played = audio.play(); } catch (e) { finish(entry, "rejected"); return; }
  if (played && played.catch) played.catch(function () { finish(entry, "rejected"); });
}

function finish(entry, outcome) {
  if (voice.current !== entry) return;
  entry.end = Date.now();
  entry.outcome = outcome;
  voice.current = null;
}

function stop() {
  clearTimeout(settle);
  if (voice.current) finish(voice.current, "stopped");
  try { audio.pause(); } catch (e) { /* nothing playing */ }
  audio.removeAttribute("src");
}

// A new screen (or language) while reading is on: read it; otherwise stop talking.
function changed() {
  clearTimeout(settle);
  if (!mode.reading) { stop(); return; }
  settle = setTimeout(read, SETTLE_MS);
}

function wire() {
  audio.addEventListener("ended", function () { if (voice.current) finish(voice.current, "ended"); });
  audio.addEventListener("error", function () { if (voice.current) finish(voice.current, "error"); });
  audio.addEventListener("loadedmetadata", function () {
    // The ticket's words can outlast its countdown: hold it until they end, and a little more.
    if (voice.current && voice.current.screen === "ticket" && isFinite(audio.duration)) {
      kiosk.keep(audio.duration * 1000 + AFTER_WORDS_MS);
    }
  });
  $("access-large").addEventListener("click", function () { setLarge(!mode.large); });
  $("access-read").addEventListener("click", function () {
    setReading(!mode.reading);
    if (mode.reading) read();
  });
  new MutationObserver(changed).observe(document.body, { attributes: true, attributeFilter: ["data-screen"] });
  new MutationObserver(changed).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  // The services are drawn again (another language, the office changed) and their counts change.
  new MutationObserver(fitSoon).observe($("services"), { childList: true, subtree: true, characterData: true });
  new MutationObserver(fitSoon).observe(document.body, { attributes: true, attributeFilter: ["data-screen", "class"] });
  window.addEventListener("resize", fitSoon);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(fitSoon);
}

/* Wires the buttons into the kiosk. `k`: { state (kiosk.js's own), t, office, token,
 * keep(ms): hold the ticket screen at least this long }. */
export function accessTools(k) {
  kiosk = k;
  audio = $("access-voice");
  wire();
  var tools = {
    on: function () { return mode.large || mode.reading; },
    reset: function () { setLarge(false); setReading(false); }
  };
  window.motcuaAccess = { mode: mode, voice: voice, audio: audio, reset: tools.reset };
  return tools;
}
