// Quản trị, tab Webhooks: the endpoints of the office's other systems, the events each
// wants, its last answer; the signing secret shown once (made, or made anew).
import { $, el, button } from "/static/js/dom.js";
import { api, badge, cfg, refusal, t, toast, when } from "./common.js";
import { confirmStep, showSecret } from "./dialogs.js";
import { buildForm, closeForm, openForm } from "./forms.js";
import { table } from "./lists.js";

let hooks = null;   // GET .../webhooks: {events, webhooks}, once the tab was opened

export function webhooksLoaded() { return hooks !== null; }

export function loadWebhooks() {
  return api("GET", cfg.api + "/webhooks").then(function (r) {
    if (!r.ok) { refusal("webhooks", r); return; }
    hooks = r.data;
    renderWebhooks();
  });
}

function eventName(e) { return t("webhooks.event." + e.replace(".", "_")); }

function fields(editing) {
  var list = [
    {name: "url", label: t("webhooks.url"), required: true, maxlength: 500, placeholder: "https://",
     help: t("webhooks.url_help")},
    {name: "events", label: t("webhooks.events"), type: "checks",
     options: hooks.events.map(function (e) { return [e, eventName(e)]; })},
    {name: "description", label: t("webhooks.description"), maxlength: 200}
  ];
  if (editing) list.push({name: "active", label: t("webhooks.active"), type: "checkbox"});
  return list;
}

function lastAnswer(h) {
  if (!h.last.at) return el("span", "muted", t("webhooks.never"));
  var box = el("span", "names");
  var ok = h.last.status != null && h.last.status >= 200 && h.last.status < 300;
  box.appendChild(badge(h.last.status == null ? t("webhooks.no_answer") : "HTTP " + h.last.status, ok ? "ok" : "bad"));
  box.appendChild(el("small", null, when(h.last.at)));
  if (h.last.response) box.appendChild(el("small", "mono", h.last.response));
  return box;
}

export function renderWebhooks() {
  if (!$("actions-webhooks").children.length) {
    var add = button(t("webhooks.add"), "primary add", function () { openHook(null, add); });
    $("actions-webhooks").appendChild(add);
  }
  var columns = [
    {label: t("webhooks.url"), value: function (h) {
      var box = el("span", "names");
      box.appendChild(el("span", "mono", h.url));
      if (h.description) box.appendChild(el("small", null, h.description));
      return box;
    }},
    {label: t("webhooks.events"), value: function (h) { return h.events.map(eventName).join(", "); }},
    {label: t("webhooks.state"), value: function (h) {
      return badge(h.active ? t("webhooks.on") : t("webhooks.off"), h.active ? "ok" : "off");
    }},
    {label: t("webhooks.last"), value: lastAnswer}
  ];
  $("list-webhooks").replaceChildren(table("webhooks", columns, hooks.webhooks, function (h) { return String(h.id); }, function (h) {
    var edit = button(t("edit"), "secondary", null, t("edit_item", {item: h.url}));
    edit.addEventListener("click", function () { openHook(h, edit); });
    var secret = button(t("webhooks.new_secret"), "secondary", function () { newSecret(h); });
    var remove = button(t("webhooks.delete"), "danger-link", function () { removeHook(h); }, t("webhooks.delete_what", {url: h.url}));
    return [edit, secret, remove];
  }, function (h) { return h.active ? null : "inactive"; }));
}

function openHook(h, from) {
  var values = h ? h : {events: [], active: true};
  var title = h ? t("webhooks.edit_title") : t("webhooks.add");
  var form = buildForm("webhooks", title, fields(!!h), values, h ? t("save") : t("create"), function (body) {
    var sent = h ? api("PATCH", cfg.api + "/webhooks/" + h.id, body) : api("POST", cfg.api + "/webhooks", body);
    return sent.then(function (r) {
      if (!r.ok) return r;
      closeForm("webhooks");
      loadWebhooks();
      if (h) toast(t("saved"));
      else secretDialog(r.data);
      return r;
    });
  });
  openForm("webhooks", form, from);
}

function secretDialog(hook) {
  showSecret(t("webhooks.secret_title"), t("webhooks.secret_warning"),
             [{label: t("webhooks.secret"), value: hook.secret, cls: "mono"}]);
}

function newSecret(h) {
  confirmStep(t("webhooks.new_secret"), t("webhooks.new_secret_text"), t("webhooks.new_secret"), function () {
    return api("PATCH", cfg.api + "/webhooks/" + h.id, {new_secret: true}).then(function (r) {
      if (!r.ok) return r;
      $("confirm").close();
      loadWebhooks();
      secretDialog(r.data);
      return r;
    });
  });
}

function removeHook(h) {
  confirmStep(t("webhooks.delete_what", {url: h.url}), t("webhooks.delete_text"), t("webhooks.delete"), function () {
    return api("DELETE", cfg.api + "/webhooks/" + h.id).then(function (r) {
      if (r.ok) { loadWebhooks(); toast(t("webhooks.deleted")); }
      return r;
    });
  });
}
