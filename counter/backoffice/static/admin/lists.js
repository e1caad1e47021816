// Quản trị: lists are tables; the add, edit and deactivate buttons of the list tabs.
import { $, el, button } from "/static/js/dom.js";
import { SECTIONS, api, cfg, localName, store, t } from "./common.js";
import { confirmStep } from "./dialogs.js";
import { buildForm, openForm, saved } from "./forms.js";

// ------------------------------------------------------------ lists
export function table(name, columns, items, key, actions, rowClass) {
  if (!items.length) return el("p", "empty", t(name + ".none"));
  var tbl = el("table", "grid");
  var thead = el("thead"), tr = el("tr");
  columns.forEach(function (c) { var th = el("th", c.cls, c.label); th.scope = "col"; tr.appendChild(th); });
  var th = el("th", "actions");
  th.scope = "col";
  th.appendChild(el("span", "visually-hidden", t("actions")));
  tr.appendChild(th);
  thead.appendChild(tr);
  tbl.appendChild(thead);
  var tbody = el("tbody");
  items.forEach(function (item) {
    var row = el("tr", rowClass ? rowClass(item) : null);
    row.dataset.key = key(item);
    columns.forEach(function (c) {
      var td = el("td", c.cls);
      td.dataset.label = c.label;
      var v = c.value(item);
      if (v instanceof Node) td.appendChild(v); else td.textContent = v == null || v === "" ? "—" : v;
      row.appendChild(td);
    });
    var td = el("td", "actions");
    (actions(item) || []).forEach(function (b) { td.appendChild(b); });
    row.appendChild(td);
    tbody.appendChild(row);
  });
  tbl.appendChild(tbody);
  var wrap = el("div", "table-wrap");
  wrap.appendChild(tbl);
  return wrap;
}

export function names(item) {
  var box = el("span", "names");
  box.appendChild(el("span", null, item.name));
  if (item.name_en) box.appendChild(el("small", null, item.name_en));
  return box;
}

export function addButton(name, text) {
  var b = button(text, "primary add", function () { openEditor(name, null, b); });
  $("actions-" + name).replaceChildren(b);
}

// Supervisors see the office's set-up and manage its officers; the rest is for admins.
function mayEdit(name) { return cfg.can_edit || name === "officers"; }

export function renderList(name) {
  if (!store.doc) return;
  var s = SECTIONS[name];
  if (!$("actions-" + name).children.length && mayEdit(name)) addButton(name, t(name + ".add"));
  var actions = mayEdit(name) ? s.actions : function () { return []; };
  $("list-" + name).replaceChildren(table(name, s.columns(), s.items(), s.key, actions, s.rowClass));
}

export function editAction(name, item, label) {
  var b = button(t("edit"), "secondary", null, t("edit_item", {item: label}));
  b.addEventListener("click", function () { openEditor(name, item, b); });
  return b;
}

function openEditor(name, item, from) {
  var s = SECTIONS[name];
  var title = item ? t(name + ".edit_title", {item: s.label(item)}) : t(name + ".add");
  var form = buildForm(name, title, s.fields(item), item ? s.values(item) : s.blank(), item ? t("save") : t("create"),
    function (body) { return s.submit(item, body); });
  openForm(name, form, from);
}

// Deactivate / revoke / disable: one confirm step, the reason for refusal in the dialog.
export function areaOptions() {
  return [["", t("services.no_area")]].concat(store.doc.areas.map(function (a) { return [a.code, a.code + " — " + localName(a)]; }));
}
export function areaName(code) {
  var a = store.doc.areas.filter(function (x) { return x.code === code; })[0];
  return a ? a.code + " — " + localName(a) : code || "—";
}
export function numbering(s) {
  if (s.prefix) {
    var digits = s.digits || 3;
    return s.prefix + new Array(digits).join("0") + "1–" + s.prefix + new Array(digits + 1).join("9");
  }
  return s.numbers ? s.numbers.replace("-", "–") : "—";
}
export function deactivate(name, item, label, path) {
  return button(t("deactivate"), "danger-link", function () {
    confirmStep(t(name + ".deactivate_title", {item: label}), t(name + ".deactivate_text", {item: label}), t("deactivate"),
      function () {
        return api("DELETE", path).then(function (r) { return saved(name, r, t(name + ".deactivated", {item: label})); });
      });
  }, t("deactivate_item", {item: label}));
}
export function inactive(item) { return item.active === false ? "inactive" : null; }

