/* Máy lấy số: the ticket screen, drawn from a ticket and what the kiosk knows (kiosk.js
   keeps the state and says when to draw). `ctx`: {t, lang, office, areas, booking,
   bookingTime(ticket, booking)}. */
import { $ } from "/static/js/dom.js";

function serviceName(ticket, office) {
  var services = (office && office.services) || [];
  for (var i = 0; i < services.length; i++) {
    if (services[i].code === ticket.service) return services[i].name;
  }
  return ticket.service_name || ticket.service;
}

export function drawTicket(tk, ctx) {
  var t = ctx.t;
  $("ticket-number").textContent = tk.number;
  $("ticket-service").textContent = serviceName(tk, ctx.office);
  $("ticket-priority").hidden = !tk.priority;
  drawBooking(tk, ctx);
  var ahead = typeof tk.position === "number" ? tk.position : null;
  $("ticket-ahead").textContent = ahead === null ? "" :
    ahead === 0 ? t("ticket.next") : ahead === 1 ? t("ticket.ahead_one") : t("ticket.ahead", { n: ahead });
  // The estimate as the paper prints it (server/read/waits.py): minutes, or why there are none.
  var minutes = tk.wait_minutes;
  $("ticket-wait").hidden = !(tk.no_open_counter || (ahead && minutes > 0));
  $("ticket-wait").classList.toggle("is-unserved", !!tk.no_open_counter);
  $("ticket-wait").textContent = tk.no_open_counter ? t("no_open_counter") :
    minutes > 0 ? t("ticket.wait", { m: minutes }) : "";
  drawPlace(tk, ctx);
  drawDocuments(tk);
  drawPrint(tk, t);
}

// The chosen procedure and what to bring, to check while waiting (also on paper and the status page).
function drawDocuments(tk) {
  var p = tk.procedure;
  var documents = (p && p.documents) || [];
  $("ticket-docs").hidden = !p;
  document.querySelector(".ticket").classList.toggle("has-documents", !!p);
  if (!p) return;
  $("ticket-procedure").textContent = p.name;
  $("ticket-docs-list").textContent = "";
  documents.forEach(function (d) {
    var li = document.createElement("li");
    li.textContent = d;
    $("ticket-docs-list").appendChild(li);
  });
  document.querySelectorAll("#ticket-docs .ticket-docs-title, #ticket-docs .ticket-docs-check").forEach(function (el) {
    el.hidden = !documents.length;
  });
}

function drawBooking(tk, ctx) {
  var b = ctx.booking;
  var line = $("ticket-booking");
  line.hidden = !b;
  $("ticket-booking-note").hidden = !(b && b.already);
  if (!b) return;
  var time = ctx.bookingTime(tk, b);
  line.textContent = time ? ctx.t("checkin.booking", { code: b.code, time: time })
    : ctx.t("checkin.booking_code", { code: b.code });
}

// Where to wait: the seat, or outside. Offices without areas (no seat, inside) show neither.
export function drawPlace(tk, ctx) {
  var outside = tk.location === "outside";
  var area = tk.area && ctx.areas[tk.area];
  var box = document.querySelector(".ticket");
  box.classList.toggle("is-outside", outside);
  box.classList.toggle("has-place", outside || !!tk.seat);
  $("ticket-outside").hidden = !outside;
  $("ticket-seat").hidden = outside || !tk.seat;
  $("ticket-seat-number").textContent = tk.seat ? ctx.t("ticket.seat", { seat: tk.seat }) : "";
  $("ticket-area").textContent = area ? (ctx.lang === "en" && area.name_en) || area.name || "" : "";
  $("ticket-area").hidden = !$("ticket-area").textContent;
}

// Whether the paper came out: printed, on its way, failed (with the reprint button), none.
export function drawPrint(tk, t) {
  var line = $("ticket-print");
  var p = tk && tk.print;
  line.className = "ticket-print";
  $("ticket-reprint").hidden = !(p && p.status === "failed");
  document.querySelector(".ticket").classList.toggle("print-failed", !!(p && p.status === "failed"));
  if (!p || !p.status) { line.hidden = true; return; }
  line.hidden = false;
  if (p.status === "printed") {
    line.textContent = t("print.printed");
    line.classList.add("is-printed");
  } else if (p.status === "queued") {
    line.textContent = t("print.queued");
  } else if (p.status === "failed") {
    line.textContent = p.message || t("print.failed");
    line.classList.add("is-failed");
  } else {
    line.textContent = p.message || t("print.none");
  }
}
