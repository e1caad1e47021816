// Quản trị, tab Nhật ký: the audit log, newest first, a page at a time.
import { $, el, button } from "/static/js/dom.js";
import { api, cfg, has, refusal, t, when } from "./common.js";
import { fieldName } from "./forms.js";
import { table } from "./lists.js";

const AUDIT_PAGE = 50;
const audit = {entries: [], more: false, loading: false};
export function loadAudit(fresh) {
  if (audit.loading) return;
  audit.loading = true;
  var before = !fresh && audit.entries.length ? "&before=" + encodeURIComponent(audit.entries[audit.entries.length - 1].id) : "";
  api("GET", cfg.api + "/audit?limit=" + AUDIT_PAGE + before).then(function (r) {
    audit.loading = false;
    if (!r.ok) { refusal("audit", r); return; }
    var got = r.data.entries || [];
    audit.entries = fresh ? got : audit.entries.concat(got);
    audit.more = got.length === AUDIT_PAGE;
    renderAudit();
  });
}

// ------------------------------------------------------------ audit log
function show(v) {
  if (v == null || v === "") return "—";
  if (typeof v === "boolean") return v ? t("yes") : t("no");
  var flat = Array.isArray(v) && v.every(function (x) { return x === null || typeof x !== "object"; });
  var s = flat ? (v.length ? v.join(", ") : "—") : typeof v === "object" ? JSON.stringify(v) : String(v);
  return s.length > 160 ? s.slice(0, 157) + "…" : s;
}
function changesList(ch) {
  var ul = el("ul", "changes");
  if (!ch || typeof ch !== "object") return ul;
  ["created", "deleted"].forEach(function (what) {
    if (!ch[what]) return;
    var li = el("li");
    li.appendChild(el("b", null, t("audit." + what) + ": "));
    var v = ch[what];
    li.appendChild(document.createTextNode(typeof v === "object" ?
      Object.keys(v).map(function (k) { return fieldName(k) + " = " + show(v[k]); }).join("; ") : show(v)));
    ul.appendChild(li);
  });
  Object.keys(ch).forEach(function (k) {
    if (k === "created" || k === "deleted") return;
    var li = el("li");
    li.appendChild(el("b", null, fieldName(k) + ": "));
    var pair = Array.isArray(ch[k]) && ch[k].length === 2 ? ch[k] : [null, ch[k]];
    li.appendChild(document.createTextNode(show(pair[0]) + " → " + show(pair[1])));
    ul.appendChild(li);
  });
  return ul;
}

function renderAudit() {
  var columns = [
    {label: t("audit.at"), cls: "when", value: function (e) { return when(e.at); }},
    {label: t("audit.actor"), value: function (e) {
      var box = el("span", "names");
      box.appendChild(el("span", null, e.actor || e.username || "—"));
      if (e.username && e.actor && e.actor !== e.username) box.appendChild(el("small", null, e.username));
      return box;
    }},
    {label: t("audit.action"), value: function (e) { return has("action." + e.action) ? t("action." + e.action) : e.action; }},
    {label: t("audit.target"), value: function (e) { return e.target; }},
    {label: t("audit.changes"), value: function (e) { return changesList(e.changes); }}
  ];
  var box = $("list-audit");
  box.replaceChildren(table("audit", columns, audit.entries, function (e) { return String(e.id); }, function () { return []; }));
  if (audit.more) box.appendChild(button(t("audit.more"), "secondary more", function () { loadAudit(false); }));
  var acts = $("actions-audit");
  if (!acts.children.length) acts.appendChild(button(t("audit.refresh"), "secondary", function () { loadAudit(true); }));
}

