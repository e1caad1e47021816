// Quản trị, tab Đơn vị: the office's settings, the office file, a new office (city-wide admins).
import { $, el } from "/static/js/dom.js";
import { api, cfg, views, forms, localName, setDoc, store, t, toast } from "./common.js";
import { buildForm } from "./forms.js";

// ------------------------------------------------------------ the office
function officeFields() {
  var general = t("office.group_general"), calls = t("office.group_calls"), hours = t("office.group_hours"),
      booking = t("office.group_booking"), results = t("office.group_results");
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
    {name: "booking.near_places", label: t("office.near_places"), type: "number", help: t("office.near_places_help"), group: booking},
    {name: "results.return_service", label: t("office.return_service"), type: "select", nullable: true,
     help: t("office.return_service_help"), group: results,
     options: [["", t("office.return_service_none")]].concat(store.doc.services.filter(function (s) { return s.active !== false; })
       .map(function (s) { return [s.code, s.code + " — " + localName(s)]; }))},
    {name: "results.postal_fee", label: t("office.postal_fee"), type: "number", unit: "đ", help: t("office.postal_fee_help"), group: results},
    {name: "results.postal_target_percent", label: t("office.postal_target"), type: "number", unit: "%",
     help: t("office.postal_target_help"), group: results}
  ];
}

export function renderOffice() {
  var open = forms.office;
  if (!open || !open.dataset.dirty) {
    var form = buildForm("office", t("office.form_title"), officeFields(), store.doc.office, t("save"), function (body, f) {
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
  if (!(store.doc.can && store.doc.can.city_wide)) list.replaceChildren();
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

export function loadOffices() {
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
      location.href = cfg.page + "?office=" + encodeURIComponent(select.value) + "#" + (store.tab || "office");
    };
    $("office-pick").hidden = false;
  });
}

views.push(renderOffice);
