// Quản trị: one form per tab creates or edits an item. The server checks everything: a 400
// reply's `fields` go next to their inputs, its `problems` (and anything not tied to an input)
// at the top of the form.
import { $, el, button } from "/static/js/dom.js";
import { TABS_WITH_CANCEL, cfg, forms, has, nextId, setDoc, store, t, toast } from "./common.js";
import { datesEditor, hoursEditor, rowsEditor } from "./editors.js";

// ------------------------------------------------------------ forms
// A field: {name (dotted: "booking.slot_minutes"), label, type, help, required, readonly,
// options: [[value, text]], show(values), local (not sent), group (fieldset legend), ...}.
export function buildForm(name, title, fields, values, submitText, onSubmit) {
  var form = el("form", "edit-form");
  form.noValidate = true;
  form.dataset.tab = name;
  var heading = el("h3", null, title);
  heading.id = nextId("form-title");
  form.setAttribute("aria-labelledby", heading.id);
  form.appendChild(heading);
  var top = el("div", "form-errors");
  top.setAttribute("role", "alert");
  top.tabIndex = -1;
  top.hidden = true;
  form.appendChild(top);
  form.fields = fields;
  form.inputs = {};
  var holder = form, group = null;
  fields.forEach(function (f) {
    if (f.group !== group) {
      group = f.group;
      if (group) {
        holder = el("fieldset", "group");
        holder.appendChild(el("legend", null, group));
        form.appendChild(holder);
      } else {
        holder = form;
      }
    }
    holder.appendChild(fieldRow(form, f, values));
  });
  var bar = el("div", "form-buttons");
  var save = el("button", "primary", submitText || t("save"));
  save.type = "submit";
  bar.appendChild(save);
  if (TABS_WITH_CANCEL.indexOf(name) >= 0) {
    bar.appendChild(button(t("cancel"), "secondary", function () { closeForm(name); }));
  }
  form.appendChild(bar);
  // An edited field's old error goes; the rest stay until the next reply.
  var edited = function (e) {
    form.dataset.dirty = "1";
    applyShow(form);
    var row = e.target.closest && e.target.closest(".sub-field, .field");
    if (row && row.classList.contains("invalid")) {
      row.classList.remove("invalid");
      var err = row.querySelector(":scope > .field-error");
      err.hidden = true;
      err.textContent = "";
      row.querySelectorAll("[aria-invalid]").forEach(function (n) { n.removeAttribute("aria-invalid"); });
    }
  };
  form.addEventListener("input", edited);
  form.addEventListener("change", edited);
  form.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && TABS_WITH_CANCEL.indexOf(name) >= 0) { e.preventDefault(); closeForm(name); }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (form.dataset.busy) return;
    clearErrors(form);
    var body = readForm(form);
    form.dataset.busy = "1";
    save.disabled = true;
    save.textContent = t("saving");
    Promise.resolve(onSubmit(body, form)).then(function (r) {
      delete form.dataset.busy;
      save.disabled = false;
      save.textContent = submitText || t("save");
      if (r && !r.ok) showErrors(form, r);
    });
  });
  applyShow(form);
  return form;
}

function getPath(obj, path) {
  return path.split(".").reduce(function (o, k) { return o == null ? undefined : o[k]; }, obj);
}
function setPath(obj, path, value) {
  var keys = path.split("."), o = obj;
  keys.slice(0, -1).forEach(function (k) { if (o[k] == null || typeof o[k] !== "object") o[k] = {}; o = o[k]; });
  o[keys[keys.length - 1]] = value;
}

function fieldRow(form, f, values) {
  var row = el("div", "field f-" + (f.type || "text"));
  row.dataset.field = f.name;
  var id = nextId("f-" + f.name.replace(/\W/g, "-"));
  var help = f.help ? el("p", "help", f.help) : null;
  var err = el("p", "field-error");
  err.id = id + "-error";
  err.hidden = true;
  if (help) help.id = id + "-help";
  var describe = (help ? help.id + " " : "") + err.id;
  var value = f.value !== undefined ? f.value : getPath(values, f.name);
  var input = null, label;
  var type = f.type || "text";
  if (type === "checkbox") {
    label = el("label", "check");
    input = el("input");
    input.type = "checkbox";
    input.checked = !!value;
    label.appendChild(input);
    label.appendChild(el("span", null, f.label));
    row.appendChild(label);
  } else if (type === "radio" || type === "checks") {
    var set = el("fieldset", "choices");
    set.appendChild(el("legend", null, f.label));
    set.setAttribute("aria-describedby", describe);
    var chosen = type === "checks" ? (value || []).map(String) : [String(value)];
    if (!f.options.length && f.empty) set.appendChild(el("p", "help", f.empty));
    f.options.forEach(function (opt) {
      var l = el("label", "check");
      var box = el("input");
      box.type = type === "radio" ? "radio" : "checkbox";
      box.name = id;
      box.value = String(opt[0]);
      box.checked = chosen.indexOf(String(opt[0])) >= 0;
      box.disabled = !!f.readonly;
      l.appendChild(box);
      l.appendChild(el("span", null, opt[1]));
      set.appendChild(l);
    });
    row.appendChild(set);
    input = set;
  } else if (type === "hours") {
    input = hoursEditor(row, value || {}, describe);
  } else if (type === "dates") {
    input = datesEditor(row, value || [], describe, f.label);
  } else if (type === "rows") {
    input = rowsEditor(row, value || [], describe, f.label);
  } else {
    label = el("label", null, f.label);
    label.htmlFor = id;
    row.appendChild(label);
    if (type === "textarea" || type === "lines") {
      input = el("textarea");
      input.rows = f.rows || 3;
    } else if (type === "select") {
      input = el("select");
      f.options.forEach(function (opt) {
        var o = el("option", null, opt[1]);
        o.value = String(opt[0]);
        input.appendChild(o);
      });
    } else {
      input = el("input");
      input.type = type === "date" ? "date" : "text";
      if (type === "number" || type === "percent") {
        input.inputMode = f.step && f.step < 1 ? "decimal" : "numeric";
        input.className = "num";
      }
      if (type === "password") { input.autocomplete = "new-password"; input.spellcheck = false; }
      if (f.placeholder) input.placeholder = f.placeholder;
    }
    if (f.maxlength) input.maxLength = f.maxlength;
    if (f.autocomplete) input.autocomplete = f.autocomplete;
    var shown = value == null ? "" : type === "percent" ? String(Math.round(value * 1000) / 10) :
      Array.isArray(value) ? value.join(type === "lines" ? "\n" : ", ") : String(value);
    input.value = type === "number" || type === "percent" ? shown.replace(".", cfg.lang === "en" ? "." : ",") : shown;
    input.id = id;
    input.setAttribute("aria-describedby", describe);
    if (f.required) input.required = true;
    if (f.readonly) { input.readOnly = true; input.disabled = type === "select"; input.classList.add("readonly"); }
    if (f.unit) {
      var wrap = el("span", "with-unit");
      wrap.appendChild(input);
      wrap.appendChild(el("span", "unit", f.unit));
      row.appendChild(wrap);
    } else {
      row.appendChild(input);
    }
    if (f.extra) row.appendChild(f.extra(input));
  }
  if (input && input.tagName === "INPUT" && type === "checkbox") {
    input.id = id;
    input.setAttribute("aria-describedby", describe);
  }
  row.appendChild(err);
  if (help) row.appendChild(help);
  form.inputs[f.name] = {field: f, input: input, row: row};
  return row;
}

function applyShow(form) {
  var values = readForm(form, true);
  form.fields.forEach(function (f) {
    if (!f.show) return;
    var on = !!f.show(values);
    var entry = form.inputs[f.name];
    entry.row.hidden = !on;
  });
  form.querySelectorAll("fieldset.group").forEach(function (set) {
    set.hidden = !set.querySelector(".field:not([hidden])");
  });
}

export function parseNumber(text) {
  var s = String(text).trim().replace(/\s/g, "").replace(",", ".");
  if (s === "") return undefined;
  var n = Number(s);
  return isNaN(n) ? s : n;  // the server says what is wrong with "abc"
}

// The body the form describes; `all` also gives the local fields and hidden ones.
function readForm(form, all) {
  var body = {};
  form.fields.forEach(function (f) {
    var entry = form.inputs[f.name];
    if (!all && (f.local || entry.row.hidden || f.readonly)) return;
    var input = entry.input, type = f.type || "text", v;
    if (type === "checkbox") v = input.checked;
    else if (type === "radio") {
      var on = input.querySelector("input:checked");
      v = on ? on.value : null;
    } else if (type === "checks") {
      v = Array.prototype.map.call(input.querySelectorAll("input:checked"), function (b) {
        return f.numeric ? Number(b.value) : b.value;
      });
    } else if (type === "hours" || type === "dates" || type === "rows") v = input.read();
    else if (type === "number") {
      v = parseNumber(input.value);
      if (v === undefined && f.nullable) v = null;
    }
    else if (type === "percent") {
      v = parseNumber(input.value);
      if (typeof v === "number") v = Math.round(v * 10) / 1000;
    } else if (type === "lines") {  // one per line
      v = input.value.split("\n").map(function (line) { return line.trim(); }).filter(Boolean);
    } else if (type === "list") {
      v = input.value.split(/[,;\s]+/).filter(Boolean);
    } else if (type === "select") {
      v = input.value === "" && f.nullable ? null : input.value;
      if (f.numeric && v !== null) v = Number(v);
    } else {
      v = input.value.trim();
      if (v === "" && f.nullable) v = null;
    }
    if (v === undefined) return;
    if (f.omitEmpty && (v === "" || v === null)) return;
    setPath(body, f.name, v);
  });
  return body;
}

function clearErrors(form) {
  var top = form.querySelector(".form-errors");
  top.hidden = true;
  top.replaceChildren();
  form.querySelectorAll(".field-error").forEach(function (p) { p.hidden = true; p.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach(function (n) { n.removeAttribute("aria-invalid"); });
  form.querySelectorAll(".field.invalid").forEach(function (n) { n.classList.remove("invalid"); });
}

// The row for an error's field name: "hours.mon", "counters[1].services", "booking.slot_minutes".
function findRow(form, key) {
  var plain = key.replace(/\[\d+\]/g, "");
  var parts = plain.split(".");
  var tries = [key, plain, parts.slice(0, 2).join("."), parts[0], parts[parts.length - 1]];
  for (var i = 0; i < tries.length; i++) {
    var rows = form.querySelectorAll(".field, .sub-field");
    for (var j = 0; j < rows.length; j++) {
      var row = rows[j];
      if (row.dataset.field === tries[i] && !row.closest("[hidden]")) return row;
    }
  }
  return null;
}

function showErrors(form, r) {
  var d = r.data || {}, fields = d.fields || {}, rest = [], first = null;
  Object.keys(fields).forEach(function (key) {
    var row = findRow(form, key);
    if (!row) { rest.push(fields[key]); return; }
    var err = row.querySelector(":scope > .field-error");
    var entry = form.inputs[row.dataset.field];
    // The server speaks of shares from 0 to 1; the form asks for percent.
    var text = entry && entry.field.type === "percent" ? t("percent_error") : fields[key];
    err.textContent = err.textContent ? err.textContent + " " + text : text;
    err.hidden = false;
    row.classList.add("invalid");
    var target = row.querySelector("input:not([type=hidden]), select, textarea, fieldset");
    if (target) target.setAttribute("aria-invalid", "true");
    if (!first) first = target;
  });
  (d.problems || []).forEach(function (p) { rest.push(humanProblem(p)); });
  var top = form.querySelector(".form-errors");
  if (rest.length || !first) {
    top.appendChild(el("p", "lead", d.message || t("failed")));
    if (rest.length) {
      var ul = el("ul");
      rest.forEach(function (p) { ul.appendChild(el("li", null, p)); });
      top.appendChild(ul);
    }
    top.hidden = false;
  }
  if (first && top.hidden) first.focus();
  else { top.focus(); top.scrollIntoView({block: "nearest"}); }
}

// "counters[6].services: bắt buộc phải có" -> "Quầy 7 – lĩnh vực phục vụ: bắt buộc phải có".
const ITEM_NAMES = {services: function (x) { return x.code; }, counters: function (x) { return x.label; },
                  areas: function (x) { return x.code; }, officers: function (x) { return x.username; }};
function humanProblem(text) {
  var m = /^(services|counters|areas|officers)\[(\d+)\](?:\.([a-z_]+))?[^:]*: (.*)$/.exec(text);
  var item = m && store.doc && store.doc[m[1]] && store.doc[m[1]][Number(m[2])];
  if (!item) return text;
  return ITEM_NAMES[m[1]](item) + (m[3] ? " – " + fieldName(m[3]) : "") + ": " + m[4];
}

// The reasons of a refusal in one line: the message, then each problem and field.
export function reasons(r) {
  var d = r.data || {};
  var list = (d.problems || []).map(humanProblem).concat(Object.keys(d.fields || {}).map(function (k) {
    return fieldName(k) + ": " + d.fields[k];
  }));
  if (d.error === "invalid" && list.length) return t("cannot") + " " + list.join("; ");
  return (d.message || t("failed")) + (list.length ? " " + list.join("; ") : "");
}

export function openForm(name, form, focusBack) {
  closeForm(name, true);
  forms[name] = form;
  form.focusBack = focusBack || null;
  $("form-" + name).replaceChildren(form);
  form.scrollIntoView({block: "nearest"});
  var first = form.querySelector("input:not([readonly]):not([type=hidden]):not([disabled]), select:not([disabled]), textarea");
  if (first) first.focus();
}

export function closeForm(name, quiet) {
  var form = forms[name];
  if (!form) return;
  delete forms[name];
  form.remove();
  if (!quiet && form.focusBack && document.body.contains(form.focusBack)) form.focusBack.focus();
  else if (!quiet) $("panel-" + name).focus();
}

// Saved: the reply is the whole office document again.
export function saved(name, r, message) {
  if (!r.ok) return r;
  closeForm(name);
  setDoc(r.data);
  toast(message || t("saved"));
  return r;
}

const SUBFIELDS = {"booking.horizon_days": "office.horizon_days", "booking.slot_minutes": "office.slot_minutes",
  "booking.per_phone_per_day": "office.per_phone_per_day", "booking.check_in_before_minutes": "office.check_in_before",
  "booking.check_in_after_minutes": "office.check_in_after", "booking.reminder_minutes": "office.reminder_minutes",
  "booking.near_places": "office.near_places", "announce.english": "office.announce_english",
  "announce.digits": "office.announce_digits", "results.return_service": "office.return_service",
  "results.postal_fee": "office.postal_fee", "results.postal_target_percent": "office.postal_target"};
export function fieldName(k) {
  if (has("field." + k)) return t("field." + k);
  if (SUBFIELDS[k]) return t(SUBFIELDS[k]);
  var parts = k.split(".");
  if (parts.length === 2 && has("field." + parts[0])) {
    return t("field." + parts[0]) + " · " + (has("day." + parts[1]) ? t("day." + parts[1]) : parts[1]);
  }
  return k;
}

