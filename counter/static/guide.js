/* Phân luồng: the guide's page at the entrance.

   Issue a ticket for a citizen (printed on a chosen kiosk, or shown as a QR code of its
   status page), check a booking in, look a ticket up by its number, and answer the kiosks'
   help requests, which arrive live in the guides' room ("help_requested", "help_answered"). */
import { client } from "/static/js/api.js";
import { $, el, button, readJson } from "/static/js/dom.js";
import { connect } from "/static/js/live.js";
import { fill as fmt } from "/static/js/words.js";

const data = readJson("guide-data");
const W = data.words, O = data.office, CODE = encodeURIComponent(O.code);
const http = client({ csrf: data.csrf, lang: data.lang });
const requests = new Map(data.requests.map((r) => [r.id, r]));

function option(value, text) { const o = el("option", null, text); o.value = value; return o; }

function fillForm() {
  $("service").replaceChildren(...O.services.filter((s) => !s.paused).map((s) => option(s.code, s.name)));
  $("group").replaceChildren(option("", W.no_priority), ...O.groups.map((g) => option(g.code, g.name)));
  $("kiosk").replaceChildren(option("", W.show_qr), ...O.kiosks.map((k) => option(k, fmt(W.print_kiosk, { kiosk: k }))));
  fillProcedures();
}

function fillProcedures() {
  const list = O.procedures.filter((p) => p.service === $("service").value);
  $("procedure-row").hidden = list.length === 0;
  $("procedure").replaceChildren(option("", W.any_procedure), ...list.map((p) => option(p.code, p.name)));
}

async function issue(e) {
  e.preventDefault();
  const body = { service: $("service").value };
  for (const [key, id] of [["procedure", "procedure"], ["priority_group", "group"], ["note", "note"], ["kiosk", "kiosk"]]) {
    const v = $(id).value.trim();
    if (v) body[key] = v;
  }
  $("issue-btn").disabled = true;
  try {
    const t = await http.call("POST", "/offices/" + CODE + "/guide/tickets", body);
    $("issued").hidden = false;
    $("issued-number").textContent = t.number;
    const printed = t.print && t.print.status === "queued";
    $("issued-text").textContent = printed ? fmt(W.issued_printed, { kiosk: body.kiosk }) : W.issued_qr;
    $("issued-qr").hidden = printed;
    if (!printed) $("issued-qr").src = t.status_url.replace(/^https?:\/\/[^/]+/, "") + "/qr.svg";
    $("note").value = "";
  } catch (err) {
    $("issued").hidden = false;
    $("issued-number").textContent = "";
    $("issued-text").textContent = err.message;
    $("issued-qr").hidden = true;
  } finally {
    $("issue-btn").disabled = false;
  }
}

function where(t) {
  const status = W[t.status] || t.status;
  if (t.status === "waiting") return fmt(W.where_waiting, { number: t.number, service: t.service_name, ahead: t.position });
  if (t.counter) return fmt(W.where_counter, { number: t.number, status, counter: t.counter });
  return fmt(W.where_other, { number: t.number, status });
}

async function checkIn(e) {
  e.preventDefault();
  const code = $("booking-code").value.trim();
  if (!code) return;
  try {
    const t = await http.call("POST", "/offices/" + CODE + "/bookings/" + encodeURIComponent(code) + "/check-in", {});
    $("checkin-answer").textContent = fmt(W.checked_in, { number: t.number }) + " " + where(t);
    $("booking-code").value = "";
  } catch (err) {
    $("checkin-answer").textContent = err.message;
  }
}

async function find(e) {
  e.preventDefault();
  const number = $("find-number").value.trim();
  if (!number) return;
  try {
    $("find-answer").textContent = where(await http.call("GET", "/offices/" + CODE + "/guide/tickets/" + encodeURIComponent(number)));
  } catch (err) {
    $("find-answer").textContent = err.message;
  }
}

function renderHelp() {
  const open = [...requests.values()].filter((r) => r.state === "open");
  $("help-empty").hidden = open.length > 0;
  $("help-list").replaceChildren(...open.map((r) => {
    const at = new Date(r.asked_at).toLocaleTimeString(data.lang === "vi" ? "vi-VN" : "en-GB", { hour: "2-digit", minute: "2-digit" });
    const li = el("li", "help-item");
    li.dataset.id = r.id;
    li.append(el("span", "help-kiosk", r.kiosk), el("span", "help-at", at),
              button(W.answer, "btn primary", () => answer(r.id)));
    return li;
  }));
  document.title = (open.length ? "(" + open.length + ") " : "") + W.title;
}

async function answer(id) {
  try {
    const r = await http.call("POST", "/offices/" + CODE + "/guide/help/" + id + "/answer", {});
    requests.set(r.id, r);
  } catch (err) {
    requests.delete(id);
  }
  renderHelp();
}

async function reloadHelp() {
  try {
    const reply = await http.call("GET", "/offices/" + CODE + "/guide/help");
    requests.clear();
    for (const r of reply.requests) requests.set(r.id, r);
    renderHelp();
  } catch (err) { /* the next event or reconnect reads again */ }
}

$("service").addEventListener("change", fillProcedures);
$("issue-form").addEventListener("submit", issue);
$("checkin-form").addEventListener("submit", checkIn);
$("find-form").addEventListener("submit", find);
const live = connect({ onStatus: (online) => { $("offline").hidden = online; }, onSnapshot: reloadHelp });
live.on("help_requested", (r) => { requests.set(r.id, r); renderHelp(); });
live.on("help_answered", (r) => { requests.set(r.id, r); renderHelp(); });
fillForm();
renderHelp();
