// Quản trị, tab Lĩnh vực: the services and their numbering.
import { SECTIONS, api, badge, cfg, num, pct, store, t, views } from "./common.js";
import { saved } from "./forms.js";
import { areaName, areaOptions, deactivate, editAction, inactive, names, numbering, renderList } from "./lists.js";

SECTIONS.services = {
  items: function () { return store.doc.services; },
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
          t("services.office_default", {n: num(store.doc.office.default_service_minutes)});
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
       help: t("services.handling_help", {n: num(store.doc.office.default_service_minutes)})},
      {name: "walk_in_share", label: t("services.walk_in"), type: "percent", unit: "%", help: t("services.walk_in_help")},
      {name: "bookable", label: t("services.bookable_label"), type: "checkbox"},
      {name: "area", label: t("services.area"), type: "select", nullable: true, options: areaOptions()},
      {name: "paused", label: t("services.paused_label"), type: "checkbox", help: t("services.paused_help")}
    ];
  },
  values: function (s) { var v = Object.assign({}, s); v.numbering = s.prefix ? "prefix" : "range"; return v; },
  blank: function () {
    return {numbering: "range", handling_minutes: 0, walk_in_share: 0.5, bookable: !!store.doc.office.booking,
            area: store.doc.areas.length ? store.doc.areas[0].code : "", paused: false};
  },
  submit: function (s, body) {
    if (s) delete body.code;
    var path = cfg.api + "/config/services" + (s ? "/" + encodeURIComponent(s.code) : "");
    return api(s ? "PUT" : "POST", path, body).then(function (r) {
      return saved("services", r, t(s ? "services.saved" : "services.created", {item: (s || body).code}));
    });
  }
};

views.push(function () { renderList("services"); });
