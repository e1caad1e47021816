// Quản trị: the admin page's script over the admin API (GET/PUT/POST/DELETE
// /api/v1/offices/<office>/config..., /devices, /audit), with the session cookie and
// X-CSRF-Token on every change. Lists are tables; one form at a time per tab creates or
// edits an item. The server checks everything: a 400 reply's `fields` go next to their
// inputs, its `problems` (and anything not tied to an input) at the top of the form.
// Device tokens and generated passwords are shown once, in a dialog. The page re-reads
// the office document when it hears `office_changed` (another admin, another tab).
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("config").textContent);
  var DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  var AUDIT_PAGE = 50;
  var doc = null;          // GET .../config: {office, services, counters, areas, officers, can}
  var devices = null;      // GET .../devices: [device]
  var audit = {entries: [], more: false, loading: false};
  var forms = {};          // tab -> the open form (create or edit), kept across redraws
  var tab = null;          // the tab shown
  var reloadTimer = null;
  var TABS_WITH_CANCEL = ["services", "counters", "areas", "officers", "devices"];

  // ------------------------------------------------------------ small helpers
  function has(key) { return Object.prototype.hasOwnProperty.call(cfg.t, "admin." + key); }
  // Device and printer states (server/engine/health.py), shared with the supervisor wall.
  function health(key) { return cfg.t["health." + key] || key; }
  var PRINTER_FAULTS = ["paper_out", "cover_open", "offline", "unreachable", "error", "unsupported"];  // server/engine/health.py
  function t(key, params) {
    var s = has(key) ? cfg.t["admin." + key] : key;
    Object.keys(params || {}).forEach(function (k) { s = s.split("{" + k + "}").join(params[k]); });
    return s;
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function button(text, cls, onclick, label) {
    var b = el("button", cls, text);
    b.type = "button";
    if (label) b.setAttribute("aria-label", label);
    if (onclick) b.addEventListener("click", onclick);
    return b;
  }
  function badge(text, kind) { return el("span", "tag " + (kind || ""), text); }
  var uid = 0;
  function nextId(prefix) { uid += 1; return prefix + "-" + uid; }
  function localName(item) { return cfg.lang === "en" && item.name_en ? item.name_en : item.name; }
  function pct(share) { return share == null ? "—" : Math.round(share * 1000) / 10 + " %"; }
  function num(n) { return n == null ? "—" : String(n).replace(".", cfg.lang === "en" ? "." : ","); }
  function when(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    try {
      return d.toLocaleString(cfg.lang === "en" ? "en-GB" : "vi-VN", {
        timeZone: (doc && doc.office.timezone) || "Asia/Ho_Chi_Minh",
        year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"});
    } catch (e) { return d.toISOString(); }
  }

  function api(method, path, body) {
    var headers = {"Accept": "application/json", "Accept-Language": cfg.lang};
    if (method !== "GET") headers["X-CSRF-Token"] = cfg.csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {method: method, headers: headers, credentials: "same-origin", cache: "no-store",
                        body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (r) {
        if (r.status === 401) location.href = cfg.home;  // the session ended: log in again
        return r.json().catch(function () { return null; }).then(function (data) {
          return {status: r.status, ok: r.ok, data: data || {}};
        });
      }, function () {
        return {status: 0, ok: false, data: {message: t("network")}};
      });
  }

  var toastTimer = null;
  function toast(text, bad) {
    var box = $("toast");
    box.textContent = text;
    box.className = "toast show" + (bad ? " bad" : "");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.className = "toast"; }, 5000);
  }

  // ------------------------------------------------------------ loading
  function loadConfig() {
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

  function setDoc(d) {
    if (!d || !d.office) { loadConfig(); return; }
    doc = d;
    $("office-name").textContent = localName(doc.office);
    renderOffice();
    ["services", "counters", "areas", "officers"].forEach(renderList);
    if (devices) renderDevices();
  }

  function loadDevices() {
    return api("GET", cfg.api + "/devices").then(function (r) {
      if (!r.ok) { refusal("devices", r); return; }
      devices = r.data.devices || [];
      renderDevices();
    });
  }

  function loadAudit(fresh) {
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

  function refusal(name, r) {
    var box = $("list-" + name);
    box.replaceChildren(el("p", "ad-alert", r.data.message || t("load_failed")));
  }

  function reloadSoon() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(function () {
      loadConfig();
      if (devices) loadDevices();
      if (tab === "audit") loadAudit(true);
    }, 300);
  }

  // ------------------------------------------------------------ tabs
  function showTab(name, focus) {
    if (cfg.tabs.indexOf(name) < 0) name = "office";
    tab = name;
    cfg.tabs.forEach(function (other) {
      var b = $("tab-" + other);
      var on = other === name;
      b.setAttribute("aria-selected", on ? "true" : "false");
      b.tabIndex = on ? 0 : -1;
      $("panel-" + other).hidden = !on;
    });
    if (focus) $("tab-" + name).focus();
    if (name === "devices" && !devices) loadDevices();
    if (name === "audit") loadAudit(true);
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

  // ------------------------------------------------------------ forms
  // A field: {name (dotted: "booking.slot_minutes"), label, type, help, required, readonly,
  // options: [[value, text]], show(values), local (not sent), group (fieldset legend), ...}.
  function buildForm(name, title, fields, values, submitText, onSubmit) {
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
      if (type === "textarea") {
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
        Array.isArray(value) ? value.join(", ") : String(value);
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

  function parseNumber(text) {
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
  var ITEM_NAMES = {services: function (x) { return x.code; }, counters: function (x) { return x.label; },
                    areas: function (x) { return x.code; }, officers: function (x) { return x.username; }};
  function humanProblem(text) {
    var m = /^(services|counters|areas|officers)\[(\d+)\](?:\.([a-z_]+))?[^:]*: (.*)$/.exec(text);
    var item = m && doc && doc[m[1]] && doc[m[1]][Number(m[2])];
    if (!item) return text;
    return ITEM_NAMES[m[1]](item) + (m[3] ? " – " + fieldName(m[3]) : "") + ": " + m[4];
  }

  // The reasons of a refusal in one line: the message, then each problem and field.
  function reasons(r) {
    var d = r.data || {};
    var list = (d.problems || []).map(humanProblem).concat(Object.keys(d.fields || {}).map(function (k) {
      return fieldName(k) + ": " + d.fields[k];
    }));
    if (d.error === "invalid" && list.length) return t("cannot") + " " + list.join("; ");
    return (d.message || t("failed")) + (list.length ? " " + list.join("; ") : "");
  }

  function openForm(name, form, focusBack) {
    closeForm(name, true);
    forms[name] = form;
    form.focusBack = focusBack || null;
    $("form-" + name).replaceChildren(form);
    form.scrollIntoView({block: "nearest"});
    var first = form.querySelector("input:not([readonly]):not([type=hidden]):not([disabled]), select:not([disabled]), textarea");
    if (first) first.focus();
  }

  function closeForm(name, quiet) {
    var form = forms[name];
    if (!form) return;
    delete forms[name];
    form.remove();
    if (!quiet && form.focusBack && document.body.contains(form.focusBack)) form.focusBack.focus();
    else if (!quiet) $("panel-" + name).focus();
  }

  // Saved: the reply is the whole office document again.
  function saved(name, r, message) {
    if (!r.ok) return r;
    closeForm(name);
    setDoc(r.data);
    toast(message || t("saved"));
    return r;
  }

  // ------------------------------------------------------------ editors for hours, dates, rows
  function hoursEditor(row, hours, describe) {
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

  function datesEditor(row, dates, describe, legend) {
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

  var ROW_KEYS = ["first", "count", "x", "y", "dx", "dy", "prefix"];
  function rowsEditor(row, rows, describe, legend) {
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

  // ------------------------------------------------------------ lists
  function table(name, columns, items, key, actions, rowClass) {
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

  function names(item) {
    var box = el("span", "names");
    box.appendChild(el("span", null, item.name));
    if (item.name_en) box.appendChild(el("small", null, item.name_en));
    return box;
  }

  function addButton(name, text) {
    var b = button(text, "primary add", function () { openEditor(name, null, b); });
    $("actions-" + name).replaceChildren(b);
  }

  // Supervisors see the office's set-up and manage its officers; the rest is for admins.
  function mayEdit(name) { return cfg.can_edit || name === "officers"; }

  function renderList(name) {
    if (!doc) return;
    var s = SECTIONS[name];
    if (!$("actions-" + name).children.length && mayEdit(name)) addButton(name, t(name + ".add"));
    var actions = mayEdit(name) ? s.actions : function () { return []; };
    $("list-" + name).replaceChildren(table(name, s.columns(), s.items(), s.key, actions, s.rowClass));
  }

  function editAction(name, item, label) {
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
  function confirmStep(title, text, yes, run) {
    var dlg = $("confirm");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    $("confirm-error").hidden = true;
    var go = $("confirm-yes");
    var fresh = go.cloneNode(false);
    fresh.textContent = yes;
    go.replaceWith(fresh);
    var back = document.activeElement;
    fresh.addEventListener("click", function () {
      fresh.disabled = true;
      Promise.resolve(run()).then(function (r) {
        fresh.disabled = false;
        if (r && !r.ok) {
          $("confirm-error").textContent = reasons(r);
          $("confirm-error").hidden = false;
          return;
        }
        dlg.close();
      });
    });
    dlg.onclose = function () { refocus(back); };
    dlg.showModal();
    $("confirm-no").focus();
  }

  // A token or password: shown once, with a copy button and a plain warning.
  function showSecret(title, warning, rows) {
    var dlg = $("secret");
    $("secret-title").textContent = title;
    $("secret-warning").textContent = warning;
    var box = $("secret-rows");
    box.replaceChildren();
    rows.forEach(function (r) {
      var line = el("div", "secret-row");
      var id = nextId("secret");
      var label = el("label", null, r.label);
      label.htmlFor = id;
      var input = el("textarea");
      input.id = id;
      input.rows = r.value.length > 40 ? 2 : 1;
      input.readOnly = true;
      input.value = r.value;
      input.className = "secret-value" + (r.cls ? " " + r.cls : "");
      input.spellcheck = false;
      input.addEventListener("focus", function () { input.select(); });
      var note = el("span", "copied");
      note.setAttribute("aria-live", "polite");
      var copy = button(t("secret.copy"), "secondary", function () {
        copyText(input).then(function (ok) { note.textContent = ok ? t("secret.copied") : t("secret.copy_failed"); });
      }, t("secret.copy_what", {what: r.label}));
      var tools = el("div", "secret-tools");
      tools.appendChild(input);
      tools.appendChild(copy);
      line.appendChild(label);
      line.appendChild(tools);
      line.appendChild(note);
      box.appendChild(line);
    });
    var back = document.activeElement;
    dlg.onclose = function () { box.replaceChildren(); refocus(back); };
    dlg.showModal();
    box.querySelector(".secret-value").focus();
  }

  function refocus(node) {
    if (node && document.body.contains(node) && !document.querySelector("dialog[open]")) node.focus();
  }

  function copyText(input) {
    input.focus();
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(input.value).then(function () { return true; }, function () { return legacyCopy(); });
    }
    return Promise.resolve(legacyCopy());
  }
  function legacyCopy() {
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }

  // ------------------------------------------------------------ the office
  function officeFields() {
    var general = t("office.group_general"), calls = t("office.group_calls"), hours = t("office.group_hours"),
        booking = t("office.group_booking");
    return [
      {name: "code", label: t("office.code"), readonly: true, group: general, local: true},
      {name: "name", label: t("office.name"), required: true, maxlength: 200, group: general},
      {name: "name_en", label: t("office.name_en"), maxlength: 200, nullable: true, group: general},
      {name: "timezone", label: t("office.timezone"), help: t("office.timezone_help"), maxlength: 64, group: general},
      {name: "notice", label: t("office.notice"), type: "textarea", rows: 3, maxlength: 500, nullable: true,
       help: t("office.notice_help"), group: general},
      {name: "target_wait_minutes", label: t("office.target_wait"), type: "number", unit: t("unit.minutes"),
       help: t("office.target_wait_help"), group: calls},
      {name: "default_service_minutes", label: t("office.default_service"), type: "number", unit: t("unit.minutes"),
       help: t("office.default_service_help"), group: calls},
      {name: "priority_cap", label: t("office.priority_cap"), type: "number", help: t("office.priority_cap_help"), group: calls},
      {name: "no_show_window_minutes", label: t("office.no_show_window"), type: "number", unit: t("unit.minutes"),
       help: t("office.no_show_window_help"), group: calls},
      {name: "min_call_to_no_show_seconds", label: t("office.min_no_show"), type: "number", unit: t("unit.seconds"),
       help: t("office.min_no_show_help"), group: calls},
      {name: "announce.english", label: t("office.announce_english"), type: "checkbox", group: calls},
      {name: "announce.digits", label: t("office.announce_digits"), type: "checkbox", group: calls},
      {name: "hours", label: t("office.hours"), type: "hours", help: t("office.hours_help"), group: hours},
      {name: "closed_dates", label: t("office.closed_dates"), type: "dates", help: t("office.closed_dates_help"), group: hours},
      {name: "booking.horizon_days", label: t("office.horizon_days"), type: "number", unit: t("unit.days"),
       help: t("office.booking_help"), group: booking},
      {name: "booking.slot_minutes", label: t("office.slot_minutes"), type: "number", unit: t("unit.minutes"), group: booking},
      {name: "booking.per_phone_per_day", label: t("office.per_phone_per_day"), type: "number", group: booking},
      {name: "booking.check_in_before_minutes", label: t("office.check_in_before"), type: "number", unit: t("unit.minutes"), group: booking},
      {name: "booking.check_in_after_minutes", label: t("office.check_in_after"), type: "number", unit: t("unit.minutes"), group: booking},
      {name: "booking.reminder_minutes", label: t("office.reminder_minutes"), type: "number", unit: t("unit.minutes"), group: booking},
      {name: "booking.near_places", label: t("office.near_places"), type: "number", help: t("office.near_places_help"), group: booking}
    ];
  }

  function renderOffice() {
    var open = forms.office;
    if (!open || !open.dataset.dirty) {
      var form = buildForm("office", t("office.form_title"), officeFields(), doc.office, t("save"), function (body, f) {
        return api("PUT", cfg.api + "/config/office", body).then(function (r) {
          if (r.ok) { delete f.dataset.dirty; forms.office = null; setDoc(r.data); toast(t("saved")); }
          return r;
        });
      });
      forms.office = form;
      if (!cfg.can_edit) readOnly(form, t("office.read_only"));
      // Redrawn after a save or another admin's change: the focus stays where it was.
      var active = open && open.contains(document.activeElement) ? document.activeElement : null;
      var row = active && active.closest("[data-field]");
      $("form-office").replaceChildren(form);
      if (active) {
        var same = row ? form.querySelector("[data-field='" + row.dataset.field + "'] input, [data-field='" + row.dataset.field +
                                             "'] textarea, [data-field='" + row.dataset.field + "'] select") : null;
        (same || form.querySelector("button[type=submit]") || $("panel-office")).focus();
      }
    }
    var acts = $("actions-office");
    if (!acts.children.length && cfg.can_edit) {
      var dl = el("a", "button secondary", t("office.download"));
      dl.href = cfg.config_toml;
      dl.setAttribute("download", cfg.office + ".toml");
      acts.appendChild(dl);
    }
    var list = $("list-office");
    if (!(doc.can && doc.can.city_wide)) list.replaceChildren();
    else if (!list.querySelector("form")) list.replaceChildren(newOfficeForm());
  }

  function readOnly(form, note) {
    form.querySelectorAll("input, select, textarea, button").forEach(function (n) { n.disabled = true; });
    form.querySelector(".form-buttons").remove();
    form.insertBefore(el("p", "note", note), form.children[1]);
  }

  function newOfficeForm() {
    var box = el("section", "sub-panel");
    var fields = [
      {name: "code", label: t("office.new_code"), required: true, maxlength: 32, help: t("office.new_code_help")},
      {name: "name", label: t("office.name"), required: true, maxlength: 200},
      {name: "name_en", label: t("office.name_en"), maxlength: 200, omitEmpty: true}
    ];
    var form = buildForm("new-office", t("office.new_title"), fields, {}, t("create"), function (body) {
      return api("POST", cfg.offices, body).then(function (r) {
        if (r.ok) location.href = cfg.page + "?office=" + encodeURIComponent(body.code) + "#office";
        return r;
      });
    });
    box.appendChild(form);
    return box;
  }

  function loadOffices() {
    api("GET", cfg.offices).then(function (r) {
      if (!r.ok || !r.data.city_wide) return;
      var select = $("office-select");
      select.replaceChildren();
      (r.data.offices || []).forEach(function (o) {
        var opt = el("option", null, o.code + " — " + localName(o));
        opt.value = o.code;
        opt.selected = o.code === cfg.office;
        select.appendChild(opt);
      });
      select.onchange = function () {
        location.href = cfg.page + "?office=" + encodeURIComponent(select.value) + "#" + (tab || "office");
      };
      $("office-pick").hidden = false;
    });
  }

  // ------------------------------------------------------------ services, counters, areas, officers
  function areaOptions() {
    return [["", t("services.no_area")]].concat(doc.areas.map(function (a) { return [a.code, a.code + " — " + localName(a)]; }));
  }
  function areaName(code) {
    var a = doc.areas.filter(function (x) { return x.code === code; })[0];
    return a ? a.code + " — " + localName(a) : code || "—";
  }
  function numbering(s) {
    if (s.prefix) {
      var digits = s.digits || 3;
      return s.prefix + new Array(digits).join("0") + "1–" + s.prefix + new Array(digits + 1).join("9");
    }
    return s.numbers ? s.numbers.replace("-", "–") : "—";
  }
  function deactivate(name, item, label, path) {
    return button(t("deactivate"), "danger-link", function () {
      confirmStep(t(name + ".deactivate_title", {item: label}), t(name + ".deactivate_text", {item: label}), t("deactivate"),
        function () {
          return api("DELETE", path).then(function (r) { return saved(name, r, t(name + ".deactivated", {item: label})); });
        });
    }, t("deactivate_item", {item: label}));
  }
  function inactive(item) { return item.active === false ? "inactive" : null; }

  var SECTIONS = {
    services: {
      items: function () { return doc.services; },
      key: function (s) { return s.code; },
      label: function (s) { return s.code + " — " + s.name; },
      rowClass: inactive,
      columns: function () {
        return [
          {label: t("services.code"), cls: "code", value: function (s) { return s.code; }},
          {label: t("services.name"), value: names},
          {label: t("services.numbering"), cls: "nowrap", value: numbering},
          {label: t("services.handling"), value: function (s) {
            return s.handling_minutes ? t("minutes", {n: num(s.handling_minutes)}) :
              t("services.office_default", {n: num(doc.office.default_service_minutes)});
          }},
          {label: t("services.walk_in"), value: function (s) { return pct(s.walk_in_share); }},
          {label: t("services.bookable"), value: function (s) { return s.bookable ? t("yes") : t("no"); }},
          {label: t("services.area"), value: function (s) { return s.area ? areaName(s.area) : "—"; }},
          {label: t("services.state"), value: function (s) {
            return s.active === false ? badge(t("inactive"), "off") : s.paused ? badge(t("services.paused"), "warn") : badge(t("services.issuing"), "ok");
          }}
        ];
      },
      actions: function (s) {
        if (s.active === false) return [];
        var label = s.code + " — " + s.name;
        return [editAction("services", s, label), deactivate("services", s, label, cfg.api + "/config/services/" + encodeURIComponent(s.code))];
      },
      fields: function (s) {
        var range = function (v) { return v.numbering !== "prefix"; };
        return [
          {name: "code", label: t("services.code"), required: true, readonly: !!s, maxlength: 16, help: s ? t("services.code_fixed") : t("services.code_help")},
          {name: "name", label: t("services.name"), required: true, maxlength: 200},
          {name: "name_en", label: t("services.name_en"), maxlength: 200, nullable: true},
          {name: "numbering", label: t("services.numbering"), type: "radio", local: true,
           options: [["range", t("services.by_range")], ["prefix", t("services.by_prefix")]]},
          {name: "numbers", label: t("services.numbers"), placeholder: "1001-1999", help: t("services.numbers_help"), show: range},
          {name: "prefix", label: t("services.prefix"), maxlength: 3, placeholder: "A", help: t("services.prefix_help"),
           show: function (v) { return !range(v); }},
          {name: "digits", label: t("services.digits"), type: "number", placeholder: "3", nullable: true,
           show: function (v) { return !range(v); }},
          {name: "handling_minutes", label: t("services.handling"), type: "number", unit: t("unit.minutes"),
           help: t("services.handling_help", {n: num(doc.office.default_service_minutes)})},
          {name: "walk_in_share", label: t("services.walk_in"), type: "percent", unit: "%", help: t("services.walk_in_help")},
          {name: "bookable", label: t("services.bookable_label"), type: "checkbox"},
          {name: "area", label: t("services.area"), type: "select", nullable: true, options: areaOptions()},
          {name: "paused", label: t("services.paused_label"), type: "checkbox", help: t("services.paused_help")}
        ];
      },
      values: function (s) { var v = Object.assign({}, s); v.numbering = s.prefix ? "prefix" : "range"; return v; },
      blank: function () {
        return {numbering: "range", handling_minutes: 0, walk_in_share: 0.5, bookable: !!doc.office.booking,
                area: doc.areas.length ? doc.areas[0].code : "", paused: false};
      },
      submit: function (s, body) {
        if (s) delete body.code;
        var path = cfg.api + "/config/services" + (s ? "/" + encodeURIComponent(s.code) : "");
        return api(s ? "PUT" : "POST", path, body).then(function (r) {
          return saved("services", r, t(s ? "services.saved" : "services.created", {item: (s || body).code}));
        });
      }
    },

    counters: {
      items: function () { return doc.counters; },
      key: function (c) { return String(c.number); },
      label: function (c) { return c.label; },
      rowClass: inactive,
      columns: function () {
        return [
          {label: t("counters.number"), cls: "code", value: function (c) { return String(c.number); }},
          {label: t("counters.label"), value: function (c) { return c.label; }},
          {label: t("counters.services"), value: function (c) {
            var box = el("span", "codes");
            (c.services || []).forEach(function (code) { box.appendChild(badge(code, "code")); });
            return c.services && c.services.length ? box : t("counters.no_services");
          }},
          {label: t("counters.position"), value: function (c) {
            return c.x == null || c.y == null ? "—" : "x " + num(c.x) + " m · y " + num(c.y) + " m";
          }}
        ];
      },
      actions: function (c) {
        if (c.active === false) return [];
        return [editAction("counters", c, c.label),
                deactivate("counters", c, c.label, cfg.api + "/config/counters/" + encodeURIComponent(c.number))];
      },
      fields: function (c) {
        return [
          {name: "label", label: t("counters.label"), required: true, maxlength: 64, placeholder: t("counters.label_placeholder")},
          {name: "number", label: t("counters.number"), type: "number", required: true,
           help: c ? t("counters.number_change") : t("counters.number_help")},
          {name: "services", label: t("counters.services"), type: "checks", empty: t("counters.no_services_yet"),
           options: doc.services.filter(function (s) { return s.active !== false; }).map(function (s) { return [s.code, s.code + " — " + localName(s)]; })},
          {name: "x", label: t("counters.x"), type: "number", step: 0.1, unit: "m", nullable: true, help: t("counters.xy_help")},
          {name: "y", label: t("counters.y"), type: "number", step: 0.1, unit: "m", nullable: true}
        ];
      },
      values: function (c) { return c; },
      blank: function () {
        var next = doc.counters.reduce(function (n, c) { return Math.max(n, c.number || 0); }, 0) + 1;
        return {number: next, label: t("counters.label_default", {n: next}), services: []};
      },
      submit: function (c, body) {
        if (c && body.number === c.number) delete body.number;  // a new number renames the same counter
        var path = cfg.api + "/config/counters" + (c ? "/" + encodeURIComponent(c.number) : "");
        return api(c ? "PUT" : "POST", path, body).then(function (r) {
          return saved("counters", r, t(c ? "counters.saved" : "counters.created", {item: body.label || (c && c.label)}));
        });
      }
    },

    areas: {
      items: function () { return doc.areas; },
      key: function (a) { return a.code; },
      label: function (a) { return a.code + " — " + a.name; },
      rowClass: inactive,
      columns: function () {
        return [
          {label: t("areas.code"), cls: "code", value: function (a) { return a.code; }},
          {label: t("areas.name"), value: names},
          {label: t("areas.seats"), cls: "n", value: function (a) {
            var out = (a.out_of_service || []).length;
            return t("areas.seat_count", {n: (a.seats || []).length}) + (out ? " · " + t("areas.out_count", {n: out}) : "");
          }},
          {label: t("areas.rule"), value: function (a) {
            return t("areas.rule_text", {share: pct(a.max_share), m: num(a.min_distance_m)});
          }},
          {label: t("areas.services"), value: function (a) {
            var codes = doc.services.filter(function (s) { return s.area === a.code; }).map(function (s) { return s.code; });
            return codes.join(", ");
          }}
        ];
      },
      actions: function (a) {
        if (a.active === false) return [];
        var label = a.code + " — " + a.name;
        return [editAction("areas", a, label), deactivate("areas", a, label, cfg.api + "/config/areas/" + encodeURIComponent(a.code))];
      },
      fields: function (a) {
        return [
          {name: "code", label: t("areas.code"), required: true, readonly: !!a, maxlength: 16},
          {name: "name", label: t("areas.name"), required: true, maxlength: 200},
          {name: "name_en", label: t("areas.name_en"), maxlength: 200, nullable: true},
          {name: "max_share", label: t("areas.max_share"), type: "percent", unit: "%", help: t("areas.max_share_help")},
          {name: "min_distance_m", label: t("areas.min_distance"), type: "number", step: 0.1, unit: "m", help: t("areas.min_distance_help")},
          {name: "out_of_service", label: t("areas.out_of_service"), type: "list", help: t("areas.out_of_service_help"),
           value: a ? (a.out_of_service || []).join(", ") : ""},
          {name: "rows", label: a ? t("areas.replace_rows") : t("areas.rows"), type: "rows",
           help: a ? t("areas.replace_rows_help", {n: (a.seats || []).length}) : t("areas.rows_help"), value: a ? [] : undefined}
        ];
      },
      values: function (a) { return a; },
      blank: function () {
        return {max_share: 0.5, min_distance_m: 2, rows: [{first: 1, count: 12, x: 1, y: 3, dx: 0.6, dy: 0}]};
      },
      submit: function (a, body) {
        if (a) delete body.code;
        if (a && !(body.rows || []).length) delete body.rows;  // keep the chairs as they are
        var path = cfg.api + "/config/areas" + (a ? "/" + encodeURIComponent(a.code) : "");
        return api(a ? "PUT" : "POST", path, body).then(function (r) {
          return saved("areas", r, t(a ? "areas.saved" : "areas.created", {item: (a || body).code}));
        });
      }
    },

    officers: {
      items: function () { return doc.officers; },
      key: function (o) { return o.username; },
      label: function (o) { return o.name || o.username; },
      rowClass: function (o) { return o.active === false ? "inactive" : null; },
      columns: function () {
        return [
          {label: t("officers.username"), cls: "code", value: function (o) { return o.username; }},
          {label: t("officers.name"), value: function (o) { return o.name; }},
          {label: t("officers.role"), value: function (o) { return t("role." + o.role); }},
          {label: t("officers.counters"), value: function (o) {
            return (o.counters || []).map(function (n) { return counterLabel(n); }).join(", ");
          }},
          {label: t("officers.state"), value: function (o) {
            return o.active === false ? badge(t("officers.disabled"), "off") : badge(t("officers.active"), "ok");
          }}
        ];
      },
      actions: function (o) {
        var label = o.name || o.username;
        if (!mayManage(o)) return [el("span", "muted", t("officers.not_yours"))];
        var out = [editAction("officers", o, label)];
        out.push(button(t("officers.reset"), "secondary", function () { resetPassword(o); }, t("officers.reset_for", {name: label})));
        if (o.active === false) {
          out.push(button(t("officers.enable"), "secondary", function () {
            api("PUT", cfg.api + "/config/officers/" + encodeURIComponent(o.username), {active: true}).then(function (r) {
              if (r.ok) saved("officers", r, t("officers.enabled", {name: label})); else toast(reasons(r), true);
            });
          }, t("officers.enable_who", {name: label})));
        } else {
          out.push(button(t("officers.disable"), "danger-link", function () {
            confirmStep(t("officers.disable_title", {name: label}), t("officers.disable_text", {name: label}), t("officers.disable"),
              function () {
                return api("PUT", cfg.api + "/config/officers/" + encodeURIComponent(o.username), {active: false}).then(function (r) {
                  return saved("officers", r, t("officers.disabled_done", {name: label}));
                });
              });
          }, t("officers.disable_who", {name: label})));
        }
        return out;
      },
      fields: function (o) {
        var roles = grantable();
        return [
          {name: "username", label: t("officers.username"), required: true, readonly: !!o, maxlength: 64,
           autocomplete: "off", help: o ? t("officers.username_fixed") : t("officers.username_help")},
          {name: "name", label: t("officers.name"), required: true, maxlength: 200},
          {name: "role", label: t("officers.role"), type: "select",
           options: roles.map(function (r) { return [r, t("role." + r)]; })},
          {name: "counters", label: t("officers.counters"), type: "checks", numeric: true, empty: t("officers.no_counters"),
           options: doc.counters.filter(function (c) { return c.active !== false; }).map(function (c) { return [c.number, c.label]; })},
          {name: "password", label: t("officers.password"), type: "password", show: function () { return !o; },
           help: t("officers.password_help"), omitEmpty: true, extra: function (input) {
             return button(t("officers.generate"), "secondary small", function () {
               input.value = randomPassword();
               input.dispatchEvent(new Event("input", {bubbles: true}));
               input.focus();
             });
           }}
        ];
      },
      values: function (o) { return o; },
      blank: function () { return {role: "officer", counters: []}; },
      submit: function (o, body) {
        if (o) delete body.username;
        var path = cfg.api + "/config/officers" + (o ? "/" + encodeURIComponent(o.username) : "");
        var typed = body.password;
        return api(o ? "PUT" : "POST", path, body).then(function (r) {
          if (!r.ok) return r;
          var generated = r.data.password;
          if (r.data.office) saved("officers", r, t(o ? "officers.saved" : "officers.created", {name: body.name || (o && o.name)}));
          else { closeForm("officers"); loadConfig(); toast(t("saved")); }
          if (!o && (generated || typed)) {
            showSecret(t("officers.password_title", {name: body.name}), t("officers.password_warning"),
                       [{label: t("officers.username"), value: body.username},
                        {label: t("officers.password"), value: generated || typed, cls: "mono"}]);
          }
          return r;
        });
      }
    }
  };

  function counterLabel(number) {
    var c = doc.counters.filter(function (x) { return x.number === number; })[0];
    return c ? c.label : String(number);
  }

  function grantable() {
    var can = doc.can || {};
    return can.officer_roles || can.officers_roles || ["officer"];
  }
  function mayManage(o) { return grantable().indexOf(o.role) >= 0; }

  function randomPassword() {
    var letters = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return letters.charAt(b % letters.length); }).join("");
  }

  function resetPassword(o) {
    var label = o.name || o.username;
    confirmStep(t("officers.reset_title", {name: label}), t("officers.reset_text", {name: label}), t("officers.reset"), function () {
      return api("POST", cfg.api + "/config/officers/" + encodeURIComponent(o.username) + "/password", {}).then(function (r) {
        if (!r.ok) return r;
        $("confirm").close();
        if (r.data.password) {
          showSecret(t("officers.password_title", {name: label}), t("officers.password_warning"),
                     [{label: t("officers.username"), value: o.username},
                      {label: t("officers.new_password"), value: r.data.password, cls: "mono"}]);
        }
        toast(t("officers.reset_done", {name: label}));
        return r;
      });
    });
  }

  // ------------------------------------------------------------ devices
  function deviceFields(d) {
    var kiosk = function (v) { return (d ? d.kind : v.kind) === "kiosk"; };
    var fields = [];
    if (!d) fields.push({name: "kind", label: t("devices.kind"), type: "radio",
                         options: [["kiosk", t("devices.kind_kiosk")], ["display", t("devices.kind_display")]]});
    return fields.concat([
      {name: "name", label: t("devices.name"), required: true, maxlength: 100, placeholder: t("devices.name_placeholder")},
      {name: "printer", label: t("devices.printer"), placeholder: "tcp://192.168.1.50:9100", help: t("devices.printer_help"),
       show: kiosk, omitEmpty: !d, value: d && d.printer === "none" ? "" : undefined},
      {name: "paper_mm", label: t("devices.paper"), type: "select", numeric: true, show: kiosk,
       options: [[80, "80 mm"], [58, "58 mm"]]}
    ]);
  }

  function renderDevices() {
    if (!$("actions-devices").children.length) {
      var add = button(t("devices.add"), "primary add", function () { openDevice(null, add); });
      $("actions-devices").appendChild(add);
    }
    var columns = [
      {label: t("devices.kind"), value: function (d) { return t("devices.kind_" + d.kind); }},
      {label: t("devices.name"), value: function (d) { return d.name; }},
      {label: t("devices.printer"), value: function (d) {
        if (d.kind !== "kiosk") return "—";
        var box = el("span", "names");
        box.appendChild(el("span", null, d.printer && d.printer !== "none" ? d.printer : t("devices.no_printer")));
        var bits = [];
        if (d.paper_mm) bits.push(d.paper_mm + " mm");
        var fault = PRINTER_FAULTS.indexOf(d.printer_status) >= 0;
        if (d.printer_status && d.printer && d.printer !== "none" && !fault) bits.push(health("printer." + d.printer_status));
        if (d.agent_online != null && d.printer && d.printer !== "none" && !/^tcp:/.test(d.printer)) bits.push(d.agent_online ? t("devices.agent_on") : t("devices.agent_off"));
        if (bits.length) box.appendChild(el("small", null, bits.join(" · ")));
        if (fault && d.printer !== "none") box.appendChild(badge(health("printer." + d.printer_status), "bad"));
        return box;
      }},
      {label: t("devices.state"), value: function (d) {
        var state = d.online ? "online" : d.seen_at ? "offline" : "never";
        var tag = badge(health("device." + state), d.online ? "ok" : d.seen_at ? "bad" : "off");
        tag.dataset.state = state;
        return tag;
      }},
      {label: t("devices.tokens"), value: function (d) {
        return d.tokens ? badge(t("devices.token_count", {n: d.tokens}), "ok") : badge(t("devices.no_tokens"), "off");
      }},
      {label: t("devices.last_token"), value: function (d) { return when(d.last_token_at); }},
      {label: t("devices.created_at"), value: function (d) { return when(d.created_at); }}
    ];
    $("list-devices").replaceChildren(table("devices", columns, devices, function (d) { return String(d.id); }, function (d) {
      var edit = button(t("edit"), "secondary", null, t("edit_item", {item: d.name}));
      edit.addEventListener("click", function () { openDevice(d, edit); });
      var token = button(t("devices.new_token"), "secondary", function () { newToken(d); }, t("devices.new_token_for", {name: d.name}));
      var revoke = button(t("devices.revoke"), "danger-link", function () { revokeDevice(d); }, t("devices.revoke_who", {name: d.name}));
      revoke.disabled = !d.tokens;
      return [edit, token, revoke];
    }, function (d) { return d.tokens ? null : "inactive"; }));
  }

  function openDevice(d, from) {
    var values = d ? d : {kind: "kiosk", paper_mm: 80};
    var title = d ? t("devices.edit_title", {item: d.name}) : t("devices.add");
    var form = buildForm("devices", title, deviceFields(d), values, d ? t("save") : t("create"), function (body) {
      if (d && body.printer === "") body.printer = "none";
      var r0 = d ? api("PUT", cfg.api + "/devices/" + encodeURIComponent(d.id), body) : api("POST", cfg.api + "/devices", body);
      return r0.then(function (r) {
        if (!r.ok) return r;
        closeForm("devices");
        loadDevices();
        if (d) toast(t("saved"));
        else {
          toast(t("devices.created", {name: body.name}));
          tokenDialog(r.data.device || body, r.data);
        }
        return r;
      });
    });
    openForm("devices", form, from);
  }

  function tokenDialog(device, reply) {
    var url = "";
    if (reply.setup_url) {
      url = new URL(reply.setup_url, location.href);
      url.pathname = url.pathname.replace(/\/{2,}/g, "/");  // a base address ending in "/" gives "//kiosk"
      url = url.href;
    }
    var rows = [{label: t("devices.token"), value: reply.token, cls: "mono"}];
    if (url) rows.push({label: t("devices.setup_url"), value: url, cls: "mono"});
    showSecret(t("devices.token_title", {name: device.name}),
               t("devices.token_warning") + " " + t(device.kind === "display" ? "devices.setup_display" : "devices.setup_kiosk"), rows);
  }

  function newToken(d) {
    confirmStep(t("devices.new_token_title", {name: d.name}), t("devices.new_token_text", {name: d.name}), t("devices.new_token"),
      function () {
        return api("POST", cfg.api + "/devices/" + encodeURIComponent(d.id) + "/token", {}).then(function (r) {
          if (!r.ok) return r;
          $("confirm").close();
          loadDevices();
          tokenDialog(d, r.data);
          return r;
        });
      });
  }

  function revokeDevice(d) {
    confirmStep(t("devices.revoke_title", {name: d.name}), t("devices.revoke_text", {name: d.name}), t("devices.revoke"),
      function () {
        return api("POST", cfg.api + "/devices/" + encodeURIComponent(d.id) + "/revoke", {}).then(function (r) {
          if (r.ok) { loadDevices(); toast(t("devices.revoked", {name: d.name, n: r.data.revoked == null ? "" : r.data.revoked})); }
          return r;
        });
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
  var SUBFIELDS = {"booking.horizon_days": "office.horizon_days", "booking.slot_minutes": "office.slot_minutes",
    "booking.per_phone_per_day": "office.per_phone_per_day", "booking.check_in_before_minutes": "office.check_in_before",
    "booking.check_in_after_minutes": "office.check_in_after", "booking.reminder_minutes": "office.reminder_minutes",
    "booking.near_places": "office.near_places", "announce.english": "office.announce_english",
    "announce.digits": "office.announce_digits"};
  function fieldName(k) {
    if (has("field." + k)) return t("field." + k);
    if (SUBFIELDS[k]) return t(SUBFIELDS[k]);
    var parts = k.split(".");
    if (parts.length === 2 && has("field." + parts[0])) {
      return t("field." + parts[0]) + " · " + (has("day." + parts[1]) ? t("day." + parts[1]) : parts[1]);
    }
    return k;
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

  // ------------------------------------------------------------ live
  function connect() {
    if (typeof io !== "function") return;
    var socket = io({transports: ["websocket"]});
    socket.on("office_changed", reloadSoon);
    socket.on("connect", function () { if (doc) reloadSoon(); });
    // Refused while the database is down: socket.io does not retry a refusal by itself.
    socket.on("connect_error", function (err) {
      if (!socket.active && err && err.message === "database_unavailable") setTimeout(function () { socket.connect(); }, 5000);
    });
  }

  wireTabs();
  showTab(location.hash.slice(1) || "office");
  loadConfig().then(function () { if (!doc) return; loadOffices(); });
  connect();

  window.motcuaAdmin = {reload: reloadSoon, forms: forms};
})();
