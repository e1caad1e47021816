// Quản trị: the admin page's entry module over the admin API (GET/PUT/POST/DELETE
// /api/v1/offices/<office>/config..., /devices, /audit), with the session cookie and
// X-CSRF-Token on every change. One module per tab (office, services, counters, areas,
// officers, devices, messages, webhooks, audit) beside the shared forms, lists and dialogs; this one wires the
// tabs and re-reads the office document when it hears `office_changed` (another admin,
// another tab).
import { $ } from "/static/js/dom.js";
import { connect } from "/static/js/live.js";
import { loadAudit } from "./audit.js";
import { loadMessages } from "./messages.js";
import { cfg, forms, loadConfig, store } from "./common.js";
import { loadOffices } from "./office.js";
import "./services.js";
import "./procedures.js";
import "./counters.js";
import "./areas.js";
import "./officers.js";
import { devicesLoaded, loadDevices } from "./devices.js";
import { loadWebhooks, webhooksLoaded } from "./webhooks.js";

let reloadTimer = null;

function reloadSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(function () {
    loadConfig();
    if (devicesLoaded()) loadDevices();
    if (webhooksLoaded()) loadWebhooks();
    if (store.tab === "audit") loadAudit(true);
    if (store.tab === "messages") loadMessages(true);
  }, 300);
}

// ------------------------------------------------------------ tabs
function showTab(name, focus) {
  if (cfg.tabs.indexOf(name) < 0) name = "office";
  store.tab = name;
  cfg.tabs.forEach(function (other) {
    var b = $("tab-" + other);
    var on = other === name;
    b.setAttribute("aria-selected", on ? "true" : "false");
    b.tabIndex = on ? 0 : -1;
    $("panel-" + other).hidden = !on;
  });
  if (focus) $("tab-" + name).focus();
  if (name === "devices" && !devicesLoaded()) loadDevices();
  if (name === "webhooks") loadWebhooks();
  if (name === "audit") loadAudit(true);
  if (name === "messages") loadMessages(true);
  if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
}

function wireTabs() {
  cfg.tabs.forEach(function (name, i) {
    var b = $("tab-" + name);
    b.addEventListener("click", function () { showTab(name); });
    b.addEventListener("keydown", function (e) {
      var to = null;
      if (e.key === "ArrowRight") to = cfg.tabs[(i + 1) % cfg.tabs.length];
      else if (e.key === "ArrowLeft") to = cfg.tabs[(i - 1 + cfg.tabs.length) % cfg.tabs.length];
      else if (e.key === "Home") to = cfg.tabs[0];
      else if (e.key === "End") to = cfg.tabs[cfg.tabs.length - 1];
      if (to) { e.preventDefault(); showTab(to, true); }
    });
  });
  window.addEventListener("hashchange", function () { showTab(location.hash.slice(1)); });
}

// ------------------------------------------------------------ live
wireTabs();
showTab(location.hash.slice(1) || "office");
loadConfig().then(function () { if (!store.doc) return; loadOffices(); });
connect({onStatus: function (online) { if (online && store.doc) reloadSoon(); }}).on("office_changed", reloadSoon);

window.motcuaAdmin = {reload: reloadSoon, forms: forms};
