/* Phân luồng: the guide's page at the entrance.

   Issue a ticket for a citizen (printed on a chosen kiosk, or shown as a QR code of its
   status page), check a booking in, look a ticket up by its number, and answer the kiosks'
   help requests, which arrive live in the guides' room ("help_requested", "help_answered"). */
import { client } from "/static/js/api.js";
import { $, el, button, readJson } from "/static/js/dom.js";
import { connect } from "/static/js/live.js";
import { fill as fmt } from "/static/js/words.js";
import { looksLikeCard } from "/static/js/idcard.js";
import { cameraReady, readQr } from "./qrcamera.js";

const data = readJson("guide-data");
const W = data.words, O = data.office, CODE = encodeURIComponent(O.code);
const http = client({ csrf: data.csrf, lang: data.lang });
const requests = new Map(data.requests.map((r) => [r.id, r]));
// The ID card scanned for a walk-in, until its number is issued or the guide drops it: sent
// with the ticket so the server counts it against the day's cap (and grants the elderly group).
let heldCard = null;

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
  if (heldCard) body.id_card = heldCard;
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
    holdCard(null);
    $("issued").scrollIntoView({ block: "nearest" });
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

// What the field holds: a booking's code or a dossier's receipt code (typed, or typed by a
// scanner from the booking's QR), or an ID card's QR text (by the scanner or the camera).
async function checkIn(e) {
  if (e) e.preventDefault();
  const text = $("booking-code").value.trim();
  if (!text) return;
  const card = looksLikeCard(text);
  if (card) $("booking-code").value = "";  // a card's text holds a name: never left on the screen
  try {
    if (card) await scanCard(text);
    else await checkInCode(text);
    $("booking-code").value = "";
  } catch (err) {
    $("checkin-answer").textContent = err.message;
  }
}

async function checkInCode(code) {
  const t = await http.call("POST", "/offices/" + CODE + "/bookings/" + encodeURIComponent(code) + "/check-in", {});
  $("checkin-answer").textContent = fmt(W.checked_in, { number: t.number }) + " " + where(t);
}

// A card checks its booking in; with none, it is held for the walk-in number the guide issues.
async function scanCard(text) {
  const reply = await http.call("POST", "/offices/" + CODE + "/id-card", { id_card: text });
  if (reply.result === "checked_in") {
    $("checkin-answer").textContent = fmt(W.checked_in, { number: reply.number }) + " " + where(reply);
    return;
  }
  const taken = reply.limit ? fmt(W.card_walk_in_limit, { taken: reply.taken_today, limit: reply.limit })
    : fmt(W.card_walk_in, { taken: reply.taken_today });
  $("checkin-answer").textContent = taken + (reply.priority ? " " + fmt(W.card_priority, { group: reply.priority_name }) : "");
  if (reply.priority_group) $("group").value = reply.priority_group;
  holdCard(text);
}

function holdCard(text) {
  heldCard = text;
  $("card-held").hidden = !text;
  $("card-held-text").textContent = text ? W.card_held : "";
}

// The camera, where the page may use one: what it reads goes through the field's own path.
let cameraStop = null;

async function camera() {
  if (cameraStop) return;
  cameraStop = new AbortController();
  $("camera-view").hidden = false;
  $("camera-btn").hidden = true;
  try {
    const text = await readQr($("camera-video"), cameraStop.signal);
    if (text) {
      $("booking-code").value = text;
      await checkIn();
    }
  } catch (err) {
    $("checkin-answer").textContent = W.camera_refused;
  } finally {
    cameraStop = null;
    $("camera-view").hidden = true;
    $("camera-btn").hidden = false;
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
    const at = new Date(r.asked_at).toLocaleTimeString(data.lang === "vi" ? "vi-VN" : "en-GB", { hour: "2-digit", minute: "2-digit", timeZone: O.timezone });
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
$("card-drop").addEventListener("click", () => holdCard(null));
$("camera-btn").hidden = !cameraReady();
$("camera-btn").addEventListener("click", camera);
$("camera-stop").addEventListener("click", () => cameraStop && cameraStop.abort());
const live = connect({ onStatus: (online) => { $("offline").hidden = online; }, onSnapshot: reloadHelp });
live.on("help_requested", (r) => { requests.set(r.id, r); renderHelp(); });
live.on("help_answered", (r) => { requests.set(r.id, r); renderHelp(); });
fillForm();
renderHelp();
