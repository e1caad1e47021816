// Quản trị, shared by every tab: the page's config and words, the office document (store.doc),
// the API call (the library's, answering {status, ok, data} as the forms expect), the toast,
// and the registries the tabs fill in: SECTIONS (the list tabs) and views (each drawn again
// when a new office document comes).
import { client } from "/static/js/api.js";
import { $, el } from "/static/js/dom.js";
import { words } from "/static/js/words.js";

export const cfg = JSON.parse($("config").textContent);
export const store = {doc: null, tab: null};  // doc: GET .../config {office, services, counters, areas, officers, can}
export const SECTIONS = {};      // list tab -> {items, key, label, columns, actions, fields, values, blank, submit}
export const views = [];         // drawn again, in order, with each new office document
export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
export const forms = {};          // tab -> the open form (create or edit), kept across redraws
export const TABS_WITH_CANCEL = ["services", "procedures", "counters", "areas", "officers", "devices", "webhooks"];
// ------------------------------------------------------------ small helpers
export const t = words(cfg.t, {prefix: "admin."});
export const has = t.has;
// Device and printer states (server/engine/health.py), shared with the supervisor wall.
export const health = words(cfg.t, {prefix: "health."});
export const PRINTER_FAULTS = ["paper_out", "cover_open", "offline", "unreachable", "error", "unsupported"];  // server/engine/health.py
// The reply whatever its status, as {status, ok, data}; no answer at all is status 0. A 401:
// the session ended, log in again.
const http = client({base: "", csrf: cfg.csrf, lang: cfg.lang, onUnauthorized: function () { location.href = cfg.home; }});
export function api(method, path, body) {
  return http.request(method, path, body).then(function (r) {
    return {status: r.status, ok: r.ok, data: r.data || {}};
  }, function () {
    return {status: 0, ok: false, data: {message: t("network")}};
  });
}

export function badge(text, kind) { return el("span", "tag " + (kind || ""), text); }
let uid = 0;
export function nextId(prefix) { uid += 1; return prefix + "-" + uid; }
export function localName(item) { return cfg.lang === "en" && item.name_en ? item.name_en : item.name; }
export function pct(share) { return share == null ? "—" : Math.round(share * 1000) / 10 + " %"; }
export function num(n) { return n == null ? "—" : String(n).replace(".", cfg.lang === "en" ? "." : ","); }
export function when(iso) {
  if (!iso) return "—";
  var d = new Date(iso);
  if (isNaN(d.getTime())) return iso;
  try {
    return d.toLocaleString(cfg.lang === "en" ? "en-GB" : "vi-VN", {
      timeZone: (store.doc && store.doc.office.timezone) || "Asia/Ho_Chi_Minh",
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"});
  } catch (e) { return d.toISOString(); }
}

let toastTimer = null;
export function toast(text, bad) {
  var box = $("toast");
  box.textContent = text;
  box.className = "toast show" + (bad ? " bad" : "");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(function () { box.className = "toast"; }, 5000);
}

export function loadConfig() {
  return api("GET", cfg.api + "/config").then(function (r) {
    var box = $("load-error");
    if (!r.ok) {
      box.textContent = t("load_failed") + (r.data.message ? " " + r.data.message : "");
      box.hidden = false;
      return;
    }
    box.hidden = true;
    setDoc(r.data);
  });
}

export function setDoc(d) {
  if (!d || !d.office) { loadConfig(); return; }
  store.doc = d;
  $("office-name").textContent = localName(store.doc.office);
  views.forEach(function (draw) { draw(); });
}

export function refusal(name, r) {
  var box = $("list-" + name);
  box.replaceChildren(el("p", "ad-alert", r.data.message || t("load_failed")));
}

