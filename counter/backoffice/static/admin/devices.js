// Quản trị, tab Thiết bị: kiosks and displays, their printers and tokens.
import { $, el, button } from "/static/js/dom.js";
import { PRINTER_FAULTS, api, views, badge, cfg, health, refusal, t, toast, when } from "./common.js";
import { confirmStep, showSecret } from "./dialogs.js";
import { buildForm, closeForm, openForm } from "./forms.js";
import { table } from "./lists.js";

let devices = null;      // GET .../devices: [device], once the tab was opened

export function devicesLoaded() { return devices !== null; }

export function loadDevices() {
  return api("GET", cfg.api + "/devices").then(function (r) {
    if (!r.ok) { refusal("devices", r); return; }
    devices = r.data.devices || [];
    renderDevices();
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

export function renderDevices() {
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

views.push(function () { if (devices) renderDevices(); });
