// Quản trị, tab Tin nhắn: the office's outgoing messages (the outbox), newest first, a page
// at a time, filtered by status and kind; a dead one can be sent again. Recipients come
// masked from the server, and no message text is shown.
import { $, el, button } from "/static/js/dom.js";
import { api, badge, cfg, has, refusal, t, toast, when } from "./common.js";
import { table } from "./lists.js";

const PAGE = 50;
const STATUSES = ["pending", "sending", "sent", "dead"];
const KINDS = ["confirmation", "reminder", "near", "come_in", "remote_code", "result_ready"];
const box = {items: [], next: null, loading: false, status: "", kind: "", counts: null};

export function loadMessages(fresh) {
  if (box.loading) return;
  box.loading = true;
  var query = "?limit=" + PAGE + (box.status ? "&status=" + box.status : "") + (box.kind ? "&kind=" + box.kind : "");
  if (!fresh && box.next) query += "&before=" + encodeURIComponent(box.next);
  api("GET", cfg.api + "/messages" + query).then(function (r) {
    box.loading = false;
    if (!r.ok) { refusal("messages", r); return; }
    box.items = fresh ? r.data.items : box.items.concat(r.data.items);
    box.next = r.data.next_before;
    box.counts = r.data.counts;
    render();
  });
}

function word(group, key) { return has(group + "." + key) ? t(group + "." + key) : key; }

function resend(m) {
  api("POST", cfg.api + "/messages/" + m.id + "/resend").then(function (r) {
    if (!r.ok) { toast(r.data.message || t("load_failed"), true); return; }
    toast(t("messages.resent"));
    loadMessages(true);
  });
}

function filter(name, values, group) {
  var label = el("label", "filter");
  label.appendChild(el("span", null, t("messages." + name) + " "));
  var select = el("select");
  select.id = "messages-" + name;
  select.appendChild(new Option(t("messages.all"), ""));
  values.forEach(function (v) { select.appendChild(new Option(word(group, v), v)); });
  select.value = box[name];
  select.addEventListener("change", function () { box[name] = select.value; loadMessages(true); });
  label.appendChild(select);
  return label;
}

function render() {
  var acts = $("actions-messages");
  if (!acts.children.length) {
    acts.appendChild(filter("status", STATUSES, "messages.status_is"));
    acts.appendChild(filter("kind", KINDS, "messages.kind_is"));
    acts.appendChild(button(t("audit.refresh"), "secondary", function () { loadMessages(true); }));
  }
  var columns = [
    {label: t("messages.created"), cls: "when", value: function (m) { return when(m.created_at); }},
    {label: t("messages.kind"), value: function (m) { return word("messages.kind_is", m.kind); }},
    {label: t("messages.recipient"), value: function (m) { return m.recipient; }},
    {label: t("messages.status"), value: function (m) {
      return badge(word("messages.status_is", m.status), m.status === "dead" ? "bad" : m.status === "sent" ? "ok" : "");
    }},
    {label: t("messages.attempts"), value: function (m) { return String(m.attempts); }},
    {label: t("messages.via"), value: function (m) { return m.delivered_via ? word("messages.via_is", m.delivered_via) : "—"; }},
    {label: t("messages.when"), cls: "when", value: function (m) {
      return m.sent_at ? when(m.sent_at) : m.next_attempt_at ? t("messages.next") + " " + when(m.next_attempt_at) : "—";
    }},
    {label: t("messages.error"), value: function (m) { return m.last_error || "—"; }}
  ];
  var list = $("list-messages");
  var counts = box.counts ? STATUSES.map(function (s) { return word("messages.status_is", s) + ": " + box.counts[s]; }).join(" · ") : "";
  list.replaceChildren(el("p", "counts", counts));
  list.appendChild(table("messages", columns, box.items, function (m) { return String(m.id); }, function (m) {
    return m.status === "dead" ? [button(t("messages.resend"), "secondary", function () { resend(m); })] : [];
  }));
  if (box.next) list.appendChild(button(t("audit.more"), "secondary more", function () { loadMessages(false); }));
}
