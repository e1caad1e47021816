// Hồ sơ: the dossier register for staff (counter/backoffice/dossiers.py). Tabs by status with
// counts, a receipt-code search (a barcode scanner types the code and Enter), a received-date
// range, paging; each row's allowed moves and its history; recording a dossier by hand; the
// day's post hand-over with its CSV, XLSX and print view; for admins, the CSV import. Read
// again after every change and once a minute.
import { client } from "/static/js/api.js";
import { $, button, el, readJson } from "/static/js/dom.js";
import { words } from "/static/js/words.js";

var cfg = readJson("config");
var t = words(cfg.t, {prefix: "dossier_page."});
var statusText = words(cfg.t, {prefix: "dossier.status."});
var api = client({base: "", csrf: cfg.csrf, lang: cfg.lang, failed: function () { return t("failed"); },
                  network: function () { return t("network"); },
                  onUnauthorized: function () { location.href = cfg.home; }});
var OPEN = ["received", "processing", "ready"];
var state = {tab: "due", page: 1, q: "", from: "", to: "", rows: []};
var loading = 0;

// ------------------------------------------------------------ small helpers
function day(iso) {  // "2026-11-27" -> "27/11/2026"
  if (!iso) return "";
  var p = iso.slice(0, 10).split("-");
  return p[2] + "/" + p[1] + "/" + p[0];
}
function when(iso) {
  if (!iso) return "—";
  var d = new Date(iso);
  if (isNaN(d.getTime())) return iso;
  return d.toLocaleString(cfg.lang === "en" ? "en-GB" : "vi-VN", {timeZone: cfg.timezone, year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"});
}
function say(text, kind) {
  var box = $("message");
  box.textContent = text;
  box.className = "ds-message " + (kind || "bad");
  box.hidden = !text;
}
function query(extra) {
  var p = new URLSearchParams();
  if (state.tab !== "all") p.set("status", state.tab);
  if (state.q) p.set("q", state.q);
  if (state.from) p.set("from", state.from);
  if (state.to) p.set("to", state.to);
  if (state.page > 1) p.set("page", String(state.page));
  Object.keys(extra || {}).forEach(function (k) { p.set(k, extra[k]); });
  var s = p.toString();
  return s ? "?" + s : "";
}
function code(row) { return encodeURIComponent(row.code); }

// ------------------------------------------------------------ the list
function load() {
  var mine = ++loading;
  return api.call("GET", cfg.api + query()).then(function (json) {
    if (mine !== loading) return;
    state.rows = json.dossiers;
    drawCounts(json.counts);
    drawRows(json.dossiers);
    $("prev").disabled = state.page <= 1;
    $("next").disabled = !json.more;
    $("page-no").textContent = t("page_no", {n: state.page});
    $("pager").hidden = state.page <= 1 && !json.more;
  }).catch(function (e) { say(t("load_failed") + " " + (e.message || "")); });
}

function drawCounts(counts) {
  var all = 0;
  ["received", "processing", "ready", "returned", "posted", "delivered", "withdrawn"].forEach(function (s) {
    all += counts[s] || 0;
  });
  document.querySelectorAll("#tabs [data-count]").forEach(function (span) {
    var name = span.dataset.count;
    var n = name === "all" ? all : counts[name] || 0;
    span.textContent = String(n);
    span.parentNode.classList.toggle("has", n > 0);
  });
  document.querySelectorAll("#tabs [data-tab]").forEach(function (b) {
    b.setAttribute("aria-selected", String(b.dataset.tab === state.tab));
  });
}

function timeliness(row) {
  var box = el("span", "when");
  box.appendChild(el("span", "date", row.due_on ? day(row.due_on) : t("no_due")));
  if (!row.timeliness) return box;
  var open = OPEN.indexOf(row.status) >= 0;
  var kind = row.timeliness === "late" ? "late" : open && row.due_on === cfg.today ? "today" : "on_time";
  var label = kind === "today" ? t("due_today") : t(row.timeliness);
  box.appendChild(el("span", "tl tl-" + kind, label));
  box.dataset.timeliness = row.timeliness;
  return box;
}

function drawRows(rows) {
  var body = $("rows");
  body.replaceChildren.apply(body, rows.map(rowOf));
  $("empty").hidden = rows.length > 0;
}

function rowOf(row) {
  var tr = el("tr", "s-" + row.status);
  tr.dataset.code = row.code;
  var open = button(row.code, "code-link", function () { showHistory(row.code); });
  open.title = t("history_title", {code: row.code});
  var cells = [
    open,
    row.procedure ? row.procedure.name : "—",
    when(row.received_at),
    timeliness(row),
    el("span", "status st-" + row.status, row.status_text),
    row.phone || "—",
    row.return_method ? t("method_" + row.return_method) : t("method_none"),
    actions(row),
  ];
  cells.forEach(function (c, i) {
    var td = el("td", ["code", "proc", "recv", "due", "st", "phone", "method", "acts"][i]);
    if (typeof c === "string") td.textContent = c; else td.appendChild(c);
    tr.appendChild(td);
  });
  return tr;
}

function moveLabel(row, to) {
  return row.status === "posted" && to === "ready" ? t("move.back_from_post") : t("move." + to);
}

// The usual next step first; going back to "processing" and withdrawing last.
var ORDER = ["ready", "returned", "posted", "delivered", "processing", "withdrawn"];

function actions(row) {
  var box = el("div", "moves");
  row.next.slice().sort(function (a, b) { return ORDER.indexOf(a) - ORDER.indexOf(b); }).forEach(function (to) {
    var b = button(moveLabel(row, to), "move m-" + to, function () {
      if (to === "withdrawn") confirmWithdraw(box, row); else move(row, to, b);
    });
    b.dataset.move = to;
    box.appendChild(b);
  });
  return box;
}

function confirmWithdraw(box, row) {
  var ask = el("div", "confirm");
  ask.appendChild(el("span", null, t("confirm_withdraw", {code: row.code})));
  var yes = button(t("confirm_yes"), "danger", function () { move(row, "withdrawn", yes); });
  yes.dataset.confirm = "yes";
  ask.appendChild(yes);
  ask.appendChild(button(t("confirm_no"), "quiet", function () { box.replaceWith(actions(row)); }));
  box.replaceChildren(ask);
}

function move(row, to, b) {
  b.disabled = true;
  api.call("POST", cfg.api + "/" + code(row) + "/" + to).then(function (json) {
    return Promise.all([load(), loadPost()]).then(function () {
      say(t("done_move", {code: json.code, status: json.status_text}), "good");
    });
  }).catch(function (e) {
    say(e.message);
    b.disabled = false;
    return load();
  });
}

// ------------------------------------------------------------ one dossier's history
function fact(list, label, value) {
  list.appendChild(el("dt", null, label));
  list.appendChild(el("dd", null, value));
}

function showHistory(receipt) {
  api.call("GET", cfg.api + "/" + encodeURIComponent(receipt)).then(function (d) {
    $("history-title").textContent = t("history_title", {code: d.code});
    var facts = $("history-facts");
    facts.replaceChildren();
    fact(facts, t("col.procedure"), d.procedure ? d.procedure.name + " (" + d.procedure.code + ")" : "—");
    fact(facts, t("col.status"), d.status_text);
    fact(facts, t("col.received"), when(d.received_at));
    fact(facts, t("col.due"), d.due_on ? day(d.due_on) + (d.timeliness ? " · " + t(d.timeliness) : "") : "—");
    fact(facts, t("col.phone"), d.phone || "—");
    fact(facts, t("notified"), d.notified ? t("yes") : t("no"));
    fact(facts, t("col.method"), d.return_method ? t("method_" + d.return_method) : "—");
    if (d.recipient) fact(facts, t("recipient"), d.recipient);
    if (d.address) fact(facts, t("address"), d.address);
    fact(facts, t("items"), String(d.items));
    fact(facts, t("source"), t("source_" + d.source));
    var events = $("history-events");
    events.replaceChildren.apply(events, d.history.map(eventOf));
    if (!d.history.length) events.appendChild(el("li", null, t("history_empty")));
    $("history").showModal();
  }).catch(function (e) { say(e.message); });
}

function eventOf(e) {
  var li = el("li");
  li.appendChild(el("time", null, when(e.at)));
  var what = t("action." + e.action);
  if (e.data && e.data.late === true) what += " · " + t("late");
  if (e.data && e.data.late === false) what += " · " + t("on_time");
  li.appendChild(el("strong", null, what));
  li.appendChild(el("span", "actor", e.actor));
  return li;
}

// ------------------------------------------------------------ the post
function dayLinks(prefix, iso) {
  var q = "?day=" + iso;
  $(prefix + "-csv").href = cfg.api + "/hand-over.csv" + q;
  $(prefix + "-xlsx").href = cfg.api + "/hand-over.xlsx" + q;
  $(prefix + "-print").href = cfg.print + q;
}

function loadPost() {
  return api.call("GET", cfg.api + "?status=to_post").then(function (json) {
    var list = $("post-list");
    var n = json.counts.to_post;
    $("post-count").textContent = n ? t("post_count", {n: n}) : t("post_none");
    list.replaceChildren.apply(list, json.dossiers.map(function (d) {
      var li = el("li");
      li.dataset.code = d.code;
      li.appendChild(el("strong", null, d.code));
      li.appendChild(el("span", "who", (d.recipient || "—") + " · " + (d.phone || "")));
      li.appendChild(el("span", "addr", d.address || "—"));
      return li;
    }));
    if (json.more) list.appendChild(el("li", "more", t("post_more", {n: n - json.dossiers.length})));
    $("hand-over").disabled = n === 0;
  }).catch(function (e) { say(e.message); });
}

function handOver() {
  var b = $("hand-over");
  b.disabled = true;
  api.call("POST", cfg.api + "/hand-over").then(function (json) {
    say("");
    return Promise.all([load(), loadPost()]).then(function () {
      $("handed-text").textContent = json.posted ? t("handed", {n: json.posted}) : t("handed_none");
      dayLinks("dl", cfg.today);
      $("handed").hidden = false;
    });
  }).catch(function (e) { say(e.message); b.disabled = false; });
}

// ------------------------------------------------------------ recording and importing
function toggle(id, open) {
  var form = $(id), opener = $("open-" + id);
  form.hidden = !open;
  if (opener) opener.setAttribute("aria-expanded", String(open));
  if (open) { var first = form.querySelector("input, select"); if (first) first.focus(); }
}

function record(ev) {
  ev.preventDefault();
  var body = {code: $("add-code").value.trim()};
  [["procedure", "add-procedure"], ["phone", "add-phone"], ["due_on", "add-due"]].forEach(function (f) {
    var v = $(f[1]).value.trim();
    if (v) body[f[0]] = v;
  });
  api.call("POST", cfg.api, body).then(function (d) {
    $("add").reset();
    toggle("add", false);
    state.tab = "received"; state.page = 1;
    return load().then(function () {
      say(t("added", {code: d.code, due: d.due_on ? day(d.due_on) : t("no_due")}), "good");
    });
  }).catch(function (e) { say(e.message); });
}

function importFile(ev) {
  ev.preventDefault();
  var file = $("import-file").files[0], out = $("import-result");
  if (!file) return;
  out.replaceChildren();
  if (file.size > cfg.import_max) { out.appendChild(el("p", "bad", t("import_too_large"))); return; }
  fetch(cfg.api + "/import", {method: "POST", body: file, credentials: "same-origin", cache: "no-store",
    headers: {"Content-Type": "text/csv", "X-CSRF-Token": cfg.csrf, "Accept-Language": cfg.lang,
              Accept: "application/json"}})
    .then(function (r) { return r.json().catch(function () { return {}; }).then(function (d) { return [r, d]; }); })
    .then(function (pair) { importShown(pair[0], pair[1]); })
    .catch(function () { out.appendChild(el("p", "bad", t("network"))); });
}

function importShown(r, d) {
  var out = $("import-result");
  if (r.ok) {
    out.appendChild(el("p", "good", t("import_done", d)));
    if (d.ignored_columns && d.ignored_columns.length) {
      out.appendChild(el("p", "hint", t("import_ignored", {columns: d.ignored_columns.join(", ")})));
    }
    load(); loadPost();
    return;
  }
  out.appendChild(el("p", "bad", r.status === 413 ? t("import_too_large") : d.message || t("failed")));
  var list = el("ul", "problems");
  (d.problems || []).forEach(function (p) { list.appendChild(el("li", null, p.message)); });
  if (list.children.length) out.appendChild(list);
}

// ------------------------------------------------------------ wiring
function search(ev) {
  ev.preventDefault();
  state.q = $("q").value.trim();
  state.from = $("from").value;
  state.to = $("to").value;
  state.page = 1;
  if (state.q) state.tab = "all";  // a scanned code is found whatever its status
  say("");
  load().then(function () { $("q").select(); });
}

function wire() {
  $("search").addEventListener("submit", search);
  $("clear").addEventListener("click", function () {
    $("search").reset();
    state.q = state.from = state.to = ""; state.page = 1;
    load();
  });
  document.querySelectorAll("#tabs [data-tab]").forEach(function (b) {
    b.addEventListener("click", function () { state.tab = b.dataset.tab; state.page = 1; say(""); load(); });
  });
  $("prev").addEventListener("click", function () { state.page -= 1; load(); });
  $("next").addEventListener("click", function () { state.page += 1; load(); });
  $("hand-over").addEventListener("click", handOver);
  $("history-close").addEventListener("click", function () { $("history").close(); });
  $("open-add").addEventListener("click", function () { toggle("add", $("add").hidden); });
  $("add").addEventListener("submit", record);
  if (cfg.can_import) {
    $("open-import").addEventListener("click", function () { toggle("import", $("import").hidden); });
    $("import").addEventListener("submit", importFile);
  }
  document.querySelectorAll("[data-close]").forEach(function (b) {
    b.addEventListener("click", function () { toggle(b.dataset.close, false); });
  });
  $("past-day").addEventListener("change", function () { if ($("past-day").value) dayLinks("past", $("past-day").value); });
  dayLinks("past", $("past-day").value || cfg.today);
}

// Others (the counter, the feed, a colleague) change the register too: read it again every
// minute, unless a withdrawal is being confirmed or a history is open.
var REFRESH_MS = 60000;
function refresh() {
  if (!document.querySelector("#rows .confirm") && !$("history").open) { load(); loadPost(); }
}

wire();
load();
loadPost();
setInterval(refresh, REFRESH_MS);
