// Quản trị, tab Cán bộ: officers, their roles and counters, passwords.
import { $, el, button } from "/static/js/dom.js";
import { SECTIONS, api, badge, cfg, loadConfig, store, t, toast, views } from "./common.js";
import { confirmStep, showSecret } from "./dialogs.js";
import { closeForm, reasons, saved } from "./forms.js";
import { editAction, renderList } from "./lists.js";

SECTIONS.officers = {
  items: function () { return store.doc.officers; },
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
       options: store.doc.counters.filter(function (c) { return c.active !== false; }).map(function (c) { return [c.number, c.label]; })},
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
};

function counterLabel(number) {
var c = store.doc.counters.filter(function (x) { return x.number === number; })[0];
return c ? c.label : String(number);
}

function grantable() {
var can = store.doc.can || {};
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

views.push(function () { renderList("officers"); });
