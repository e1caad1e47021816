// Quản trị, tab Thủ tục: the procedures catalogue (the office file's [[procedures]]): what
// each needs (the documents the kiosk and the desk list), its queue, how far it can be done
// online. Empty fields are sent as null: the server drops them (an edit removes the value).
// Deleting one takes it off the kiosk; tickets that named it keep its name.
import { button, el } from "/static/js/dom.js";
import { SECTIONS, api, badge, cfg, localName, store, t, views } from "./common.js";
import { confirmStep } from "./dialogs.js";
import { saved } from "./forms.js";
import { editAction, names, renderList } from "./lists.js";

const ONLINE = ["full", "partial", "none"];

function serviceName(code) {
  var sv = store.doc.services.filter(function (s) { return s.code === code; })[0];
  return sv ? sv.code + " — " + localName(sv) : code;
}

function remove(p, label) {
  return button(t("procedures.delete"), "danger-link", function () {
    confirmStep(t("procedures.delete_title", {item: label}), t("procedures.delete_text", {item: label}),
      t("procedures.delete"), function () {
        return api("DELETE", cfg.api + "/config/procedures/" + encodeURIComponent(p.code)).then(function (r) {
          return saved("procedures", r, t("procedures.deleted", {item: label}));
        });
      });
  }, t("procedures.delete_item", {item: label}));
}

SECTIONS.procedures = {
  items: function () { return store.doc.procedures || []; },
  key: function (p) { return p.code; },
  label: function (p) { return p.code + " — " + p.name; },
  columns: function () {
    return [
      {label: t("procedures.code"), cls: "code", value: function (p) { return p.code; }},
      {label: t("procedures.name"), value: names},
      {label: t("procedures.service"), value: function (p) { return serviceName(p.service); }},
      {label: t("procedures.documents"), value: function (p) {
        var docs = p.documents || [];
        if (!docs.length) return "—";
        var list = el("ul", "doc-list");
        docs.forEach(function (d) { list.appendChild(el("li", null, d)); });
        return list;
      }},
      {label: t("procedures.online"), value: function (p) {
        var kind = p.online === "full" ? "ok" : p.online === "partial" ? "warn" : "off";
        return badge(t("procedures.online_" + (p.online || "none")), kind);
      }},
      {label: t("procedures.processing_days"), cls: "nowrap", value: function (p) {
        return p.processing_days == null ? "—" : p.processing_days === 0 ? t("procedures.same_day") :
          t("procedures.days", {n: p.processing_days});
      }},
      {label: t("procedures.fee"), value: function (p) { return p.fee || "—"; }}
    ];
  },
  actions: function (p) {
    var label = p.code + " — " + p.name;
    return [editAction("procedures", p, label), remove(p, label)];
  },
  fields: function (p) {
    return [
      {name: "code", label: t("procedures.code"), required: true, readonly: !!p, maxlength: 32,
       placeholder: "1.001193", help: p ? t("procedures.code_fixed") : t("procedures.code_help")},
      {name: "name", label: t("procedures.name"), required: true, maxlength: 300},
      {name: "name_en", label: t("procedures.name_en"), maxlength: 300, nullable: true},
      {name: "service", label: t("procedures.service"), type: "select",
       options: store.doc.services.filter(function (s) { return s.active !== false; })
         .map(function (s) { return [s.code, s.code + " — " + localName(s)]; })},
      {name: "documents", label: t("procedures.documents"), type: "lines", rows: 5, help: t("procedures.documents_help")},
      {name: "online", label: t("procedures.online"), type: "select",
       options: ONLINE.map(function (o) { return [o, t("procedures.online_" + o)]; })},
      {name: "url", label: t("procedures.url"), nullable: true, placeholder: "https://dichvucong.gov.vn/…",
       help: t("procedures.url_help")},
      {name: "fee", label: t("procedures.fee"), maxlength: 200, nullable: true, help: t("procedures.fee_help")},
      {name: "processing_days", label: t("procedures.processing_days"), type: "number", unit: t("procedures.days_unit"),
       nullable: true, help: t("procedures.processing_days_help")},
      {name: "by_post", label: t("procedures.by_post"), type: "checkbox"}
    ];
  },
  values: function (p) { return Object.assign({}, p); },
  blank: function () {
    var first = store.doc.services.filter(function (s) { return s.active !== false; })[0];
    return {service: first ? first.code : "", online: "none", documents: [], by_post: false};
  },
  submit: function (p, body) {
    if (p) body.code = p.code;
    var path = cfg.api + "/config/procedures" + (p ? "/" + encodeURIComponent(p.code) : "");
    return api(p ? "PUT" : "POST", path, body).then(function (r) {
      return saved("procedures", r, t(p ? "procedures.saved" : "procedures.created", {item: (p || body).code}));
    });
  }
};

views.push(function () { renderList("procedures"); });
