// Quản trị, tab Quầy: the counters and the services each serves.
import { el } from "/static/js/dom.js";
import { SECTIONS, api, badge, cfg, localName, num, store, t, views } from "./common.js";
import { saved } from "./forms.js";
import { deactivate, editAction, inactive, renderList } from "./lists.js";

SECTIONS.counters = {
  items: function () { return store.doc.counters; },
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
       options: store.doc.services.filter(function (s) { return s.active !== false; }).map(function (s) { return [s.code, s.code + " — " + localName(s)]; })},
      {name: "x", label: t("counters.x"), type: "number", step: 0.1, unit: "m", nullable: true, help: t("counters.xy_help")},
      {name: "y", label: t("counters.y"), type: "number", step: 0.1, unit: "m", nullable: true}
    ];
  },
  values: function (c) { return c; },
  blank: function () {
    var next = store.doc.counters.reduce(function (n, c) { return Math.max(n, c.number || 0); }, 0) + 1;
    return {number: next, label: t("counters.label_default", {n: next}), services: []};
  },
  submit: function (c, body) {
    if (c && body.number === c.number) delete body.number;  // a new number renames the same counter
    var path = cfg.api + "/config/counters" + (c ? "/" + encodeURIComponent(c.number) : "");
    return api(c ? "PUT" : "POST", path, body).then(function (r) {
      return saved("counters", r, t(c ? "counters.saved" : "counters.created", {item: body.label || (c && c.label)}));
    });
  }
};

views.push(function () { renderList("counters"); });
