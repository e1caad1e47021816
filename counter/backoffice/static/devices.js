// Thiết bị: the supervisor wall's devices panel. Reads GET /offices/<office>/health on
// start, on every (re)connect and every minute; patches one device at a time from the
// `device_health` events of the office's staff room. A device that fails (offline after
// it was seen, printer down, print agent away) turns red and raises the alert at the top.
import { client } from "/static/js/api.js";
import { el } from "/static/js/dom.js";
import { words as wordsOf } from "/static/js/words.js";

var cfg = null, devices = {}, order = [], t = null, api = null;
var REFRESH_MS = 60000;

function clock(iso) {
  if (!iso) return "";
  var d = new Date(iso);
  if (isNaN(d.getTime())) return "";
  return d.toLocaleTimeString(cfg.lang === "en" ? "en-GB" : "vi-VN", {hour: "2-digit", minute: "2-digit"});
}

// What is wrong with a device (or how it is), in the page's language.
function words(d) {
  var out = [];
  var link = d.online ? "online" : d.since ? "offline" : "never";
  var first = t("health.device." + link);
  if (!d.online && d.since) first += " " + t("health.since", {time: clock(d.since)});
  out.push({text: first, bad: link === "offline"});
  if (d.kind === "kiosk" && d.printer) {
    var down = d.problems.indexOf("printer") >= 0;
    var p = t("health.printer." + d.printer);
    if (down && d.printer_since) p += " " + t("health.since", {time: clock(d.printer_since)});
    out.push({text: p, bad: down, warn: d.printer === "paper_low"});
    if (d.problems.indexOf("agent_off") >= 0) out.push({text: t("health.device.agent_off"), bad: true});
  }
  return out;
}

function render() {
  var list = document.getElementById("device-list");
  var items = order.map(function (id) {
    var d = devices[id];
    var li = el("li", "device s-" + d.state);
    li.dataset.id = d.id;
    li.dataset.state = d.state;
    var head = el("p", "device-name");
    head.appendChild(el("span", "device-kind", t("health.kind_" + d.kind)));
    head.appendChild(el("b", null, d.name));
    li.appendChild(head);
    var state = el("p", "device-state");
    words(d).forEach(function (w, i) {
      if (i) state.appendChild(document.createTextNode(" · "));
      state.appendChild(el("span", w.bad ? "bad" : w.warn ? "warn" : null, w.text));
    });
    li.appendChild(state);
    return li;
  });
  if (!items.length) items = [el("li", "device none", t("health.none"))];
  list.replaceChildren.apply(list, items);
  var failing = order.map(function (id) { return devices[id]; }).filter(function (d) { return d.state === "fault"; });
  var alert = document.getElementById("device-alert");
  alert.hidden = failing.length === 0;
  alert.textContent = failing.length ? t("health.alert", {names: failing.map(function (d) {
    return d.name + " (" + words(d).filter(function (w) { return w.bad; }).map(function (w) { return w.text; }).join(", ") + ")";
  }).join("; ")}) : "";
  document.getElementById("devices").classList.toggle("has-fault", failing.length > 0);
}

export function load() {
  api.call("GET", cfg.health)
    .then(function (data) {
      devices = {};
      order = data.devices.map(function (d) { devices[d.id] = d; return d.id; });
      var voice = document.getElementById("voice");
      voice.textContent = data.voice.message;
      voice.className = "voice " + (data.voice.ready ? "ready" : "missing");
      render();
    })
    .catch(function () {});
}

function changed(d) {
  if (!d || typeof d.id !== "number") return;
  if (!devices[d.id]) { load(); return; }  // a new device: read the list again, in order
  devices[d.id] = d;
  render();
}

// `live`: the page's live client (/static/js/live.js); the page calls load() again on its snapshots.
export function start(config, live) {
  cfg = config;
  t = wordsOf(cfg.t);
  api = client({base: "", lang: cfg.lang});
  live.on("device_health", changed);
  load();
  setInterval(load, REFRESH_MS);
}
