// Quản trị, tab Khu vực chờ: waiting areas, their seats and rules.
import { SECTIONS, api, cfg, num, pct, store, t, views } from "./common.js";
import { saved } from "./forms.js";
import { deactivate, editAction, inactive, names, renderList } from "./lists.js";

SECTIONS.areas = {
  items: function () { return store.doc.areas; },
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
        var codes = store.doc.services.filter(function (s) { return s.area === a.code; }).map(function (s) { return s.code; });
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
};

views.push(function () { renderList("areas"); });
