// Quản trị: the editors for opening hours, closed dates and the seat rows of an area.
import { el, button } from "/static/js/dom.js";
import { DAYS, nextId, num, t } from "./common.js";
import { parseNumber } from "./forms.js";

// ------------------------------------------------------------ editors for hours, dates, rows
export function hoursEditor(row, hours, describe) {
  var set = el("fieldset", "hours");
  set.appendChild(el("legend", null, t("office.hours")));
  set.setAttribute("aria-describedby", describe);
  var inputs = {};
  DAYS.forEach(function (day) {
    var line = el("div", "sub-field day");
    line.dataset.field = "hours." + day;
    var id = nextId("hours-" + day);
    var label = el("label", null, t("day." + day));
    label.htmlFor = id;
    var input = el("input");
    input.id = id;
    input.type = "text";
    input.placeholder = t("office.closed_day");
    input.value = (hours[day] || []).map(function (s) { return Array.isArray(s) ? s.join("-") : s; }).join(", ");
    var err = el("p", "field-error");
    err.id = id + "-error";
    err.hidden = true;
    input.setAttribute("aria-describedby", err.id + " " + describe.split(" ")[0]);
    line.appendChild(label);
    line.appendChild(input);
    line.appendChild(err);
    set.appendChild(line);
    inputs[day] = input;
  });
  var copy = button(t("office.copy_monday"), "secondary small", function () {
    ["tue", "wed", "thu", "fri"].forEach(function (day) {
      inputs[day].value = inputs.mon.value;
      inputs[day].dispatchEvent(new Event("input", {bubbles: true}));
    });
  });
  set.appendChild(copy);
  row.appendChild(set);
  set.read = function () {
    var out = {};
    DAYS.forEach(function (day) {
      var spans = inputs[day].value.split(/[,;]+/).map(function (s) {
        return s.replace(/[\u2010-\u2015]/g, "-").replace(/\s+/g, "");
      }).filter(Boolean);
      if (spans.length) out[day] = spans;
    });
    return out;
  };
  return set;
}

export function datesEditor(row, dates, describe, legend) {
  var set = el("fieldset", "dates");
  set.appendChild(el("legend", null, legend));
  set.setAttribute("aria-describedby", describe);
  var list = el("ul", "chips");
  var chosen = dates.slice().sort();
  var add = el("div", "add-date");
  var id = nextId("date");
  var label = el("label", null, t("office.add_date_label"));
  label.htmlFor = id;
  var input = el("input");
  input.type = "date";
  input.id = id;
  var addButton = button(t("office.add_date"), "secondary", function () {
    if (input.value && chosen.indexOf(input.value) < 0) {
      chosen.push(input.value);
      chosen.sort();
      draw();
      set.dispatchEvent(new Event("change", {bubbles: true}));
    }
    input.value = "";
    input.focus();
  });
  input.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); addButton.click(); } });
  function draw() {
    list.replaceChildren();
    if (!chosen.length) list.appendChild(el("li", "none", t("office.no_dates")));
    chosen.forEach(function (d) {
      var li = el("li", "chip");
      li.dataset.date = d;
      var shown = d.split("-").reverse().join("/");
      li.appendChild(el("span", null, shown));
      li.appendChild(button("×", "remove", function () {
        chosen.splice(chosen.indexOf(d), 1);
        draw();
        set.dispatchEvent(new Event("change", {bubbles: true}));
        input.focus();
      }, t("office.remove_date", {date: shown})));
      list.appendChild(li);
    });
  }
  draw();
  add.appendChild(label);
  add.appendChild(input);
  add.appendChild(addButton);
  set.appendChild(list);
  set.appendChild(add);
  row.appendChild(set);
  set.read = function () { return chosen.slice(); };
  return set;
}

const ROW_KEYS = ["first", "count", "x", "y", "dx", "dy", "prefix"];
export function rowsEditor(row, rows, describe, legend) {
  var set = el("fieldset", "rows");
  set.appendChild(el("legend", null, legend));
  set.setAttribute("aria-describedby", describe);
  var table = el("table", "seat-rows");
  var head = el("tr");
  head.appendChild(el("th", null, "#"));
  ROW_KEYS.forEach(function (k) { var th = el("th", null, t("areas.row." + k)); th.scope = "col"; head.appendChild(th); });
  head.appendChild(el("th"));
  var thead = el("thead");
  thead.appendChild(head);
  table.appendChild(thead);
  var body = el("tbody");
  table.appendChild(body);
  function addRow(values) {
    var tr = el("tr");
    var n = body.children.length + 1;
    tr.appendChild(el("td", "n", String(n)));
    ROW_KEYS.forEach(function (k) {
      var td = el("td");
      var input = el("input");
      input.type = "text";
      input.dataset.key = k;
      input.inputMode = k === "prefix" ? "text" : k === "first" || k === "count" ? "numeric" : "decimal";
      input.setAttribute("aria-label", t("areas.row_cell", {n: n, what: t("areas.row." + k)}));
      input.value = values[k] == null ? "" : k === "prefix" ? String(values[k]) : num(values[k]);
      td.appendChild(input);
      tr.appendChild(td);
    });
    var td = el("td");
    td.appendChild(button("×", "remove", function () {
      tr.remove();
      renumber();
      set.dispatchEvent(new Event("change", {bubbles: true}));
    }, t("areas.remove_row", {n: n})));
    tr.appendChild(td);
    body.appendChild(tr);
  }
  function renumber() {
    Array.prototype.forEach.call(body.children, function (tr, i) { tr.firstChild.textContent = String(i + 1); });
  }
  rows.forEach(addRow);
  var wrap = el("div", "table-scroll");
  wrap.appendChild(table);
  set.appendChild(wrap);
  set.appendChild(button(t("areas.add_row"), "secondary small", function () {
    var last = body.lastElementChild;
    var guess = {first: 1, count: 10, x: 0, y: 0, dx: 0.6, dy: 0};
    if (last) {
      var v = readRow(last);
      guess = {first: (v.first || 1) + (v.count || 0), count: v.count, x: v.x, y: (v.y || 0) + 1, dx: v.dx, dy: v.dy, prefix: v.prefix};
    }
    addRow(guess);
    body.lastElementChild.querySelector("input").focus();
  }));
  row.appendChild(set);
  function readRow(tr) {
    var out = {};
    tr.querySelectorAll("input").forEach(function (input) {
      var k = input.dataset.key, v = input.value.trim();
      if (v === "") return;
      out[k] = k === "prefix" ? v : parseNumber(v);
    });
    return out;
  }
  set.read = function () {
    return Array.prototype.map.call(body.children, readRow).filter(function (r) { return Object.keys(r).length; });
  };
  return set;
}

