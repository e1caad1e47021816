// The public booking pages (docs/booking.md), over the JSON API; no login.
//
// mode "book":   service → day → slot → name and phone → the booking code, its QR and the
//                private link. Each step opens below the last; an earlier choice can be changed.
// mode "manage": /booking/<token>: the booking (with the own full phone), cancel (two taps)
//                and move (another slot of the same service), with header X-Booking-Token.
//
// Every request sends Accept-Language in the page's language: errors come back as
// {"error", "message"} with the message already in it, and are shown as they are.
// Times come as ISO 8601 UTC and are shown in the office's time zone.
import { client } from "/static/js/api.js";
import { $, el, readJson, show } from "/static/js/dom.js";
import { fill } from "/static/js/words.js";

var root = $("booking");
var W = readJson("booking-words");
var mode = root.dataset.mode, office = root.dataset.office, lang = root.dataset.lang;
var tz = root.dataset.tz || "Asia/Ho_Chi_Minh", token = root.dataset.token || null;

// ------------------------------------------------------------ times in the office's zone

var hm = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false });
var ymd = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" });
function time(iso) { return hm.format(new Date(iso)); }
function localDate(iso) { return ymd.format(new Date(iso)); }           // "2026-11-23"
function todayThere() { return ymd.format(new Date()); }
function addDays(day, n) {
  var p = day.split("-").map(Number), d = new Date(Date.UTC(p[0], p[1] - 1, p[2] + n));
  return d.toISOString().slice(0, 10);
}
// "Thứ Hai 23/11" (with the year when asked: "Thứ Hai 23/11/2026").
function dayName(day, withYear) {
  var p = day.split("-").map(Number), wd = new Date(Date.UTC(p[0], p[1] - 1, p[2])).getUTCDay();
  var dm = (p[2] < 10 ? "0" : "") + p[2] + "/" + (p[1] < 10 ? "0" : "") + p[1] + (withYear ? "/" + p[0] : "");
  return W["wd" + wd] + " " + dm;
}
function span(b) { return time(b.start) + "–" + time(b.end); }
function when(b) { return dayName(localDate(b.start), true) + ", " + span(b); }

// ------------------------------------------------------------ the API

// Errors are thrown as the library's ApiError: the server's message, `code` and `status`.
var call = client({lang: lang, failed: W.load_failed, network: W.network,
                   headers: function () { return token ? {"X-Booking-Token": token} : {}; }}).call;
function o(code) { return "/offices/" + encodeURIComponent(code); }

// ------------------------------------------------------------ page-level loading and errors

var retryWith = null;
function pageError(err, retry) {
  show($("loading"), false);
  $("page-error-text").textContent = err.message;
  retryWith = retry || null;
  show($("retry"), !!retry);
  show($("page-error"), true);
}
$("retry").addEventListener("click", function () {
  show($("page-error"), false);
  if (retryWith) retryWith();
});
function showError(id, message) {
  var e = $(id);
  if (!e) return;
  e.textContent = message || "";
  show(e, !!message);
}

// ------------------------------------------------------------ day chips and slot buttons

// Chips for `days`; onPick(day). The chosen one is aria-pressed.
function renderDays(box, days, onPick) {
  box.textContent = "";
  var today = todayThere(), tomorrow = addDays(today, 1);
  days.forEach(function (day) {
    var b = el("button", "chip day");
    b.type = "button";
    b.dataset.day = day;
    b.setAttribute("aria-pressed", "false");
    b.appendChild(el("span", "chip-main", dayName(day)));
    if (day === today || day === tomorrow) b.appendChild(el("span", "chip-sub", day === today ? W.today : W.tomorrow));
    b.addEventListener("click", function () { press(box, b); onPick(day); });
    box.appendChild(b);
  });
}
function press(box, button) {
  Array.prototype.forEach.call(box.querySelectorAll("[aria-pressed]"), function (x) {
    x.setAttribute("aria-pressed", x === button ? "true" : "false");
  });
}

// Slots of one service on one day into `box`; onPick(slot). `current` (a start) is marked.
var slotsGen = 0;
function loadSlots(box, service, day, onPick, current) {
  var gen = ++slotsGen;
  var notice = $("slot-notice");
  notice.classList.remove("alert");
  box.textContent = "";
  box.setAttribute("aria-busy", "true");
  notice.textContent = W.loading;
  show(notice, true);
  return call("GET", o(office) + "/services/" + encodeURIComponent(service) + "/slots?date=" + encodeURIComponent(day))
    .then(function (data) {
      if (gen !== slotsGen) return;
      box.removeAttribute("aria-busy");
      var slots = data.slots || [];
      if (!slots.length) {
        notice.textContent = data.closed_reason ? (W["closed_" + data.closed_reason] || W.no_slots) : W.no_slots;
        return;
      }
      var open = 0;
      slots.forEach(function (s) {
        var full = !(s.available > 0), mine = current && s.start === current;
        var b = el("button", "chip slot" + (full ? " full" : "") + (mine ? " current" : ""));
        b.type = "button";
        b.dataset.start = s.start;
        b.setAttribute("aria-pressed", "false");
        b.appendChild(el("span", "chip-main", span(s)));
        b.appendChild(el("span", "chip-sub", mine ? W.current : full ? W.full : fill(W.seats_left, { n: s.available })));
        if (full && !mine) b.disabled = true; else if (!mine) open++;
        b.addEventListener("click", function () { press(box, b); onPick(s, b); });
        box.appendChild(b);
      });
      notice.textContent = open ? "" : W.no_slots;
      show(notice, !open);
    }, function (err) {
      if (gen !== slotsGen) return;
      box.removeAttribute("aria-busy");
      notice.textContent = err.message;
      show(notice, true);
    });
}

// ------------------------------------------------------------ the booking shown

function renderBooking(b, fresh) {
  show($("result"), true);
  show($("done-title"), !!fresh);
  var status = b.status || "booked";
  var line = $("status-line");
  line.textContent = W["status_" + status] || W.status_other;
  line.className = "status-line st-" + status;
  show(line, !fresh);
  $("code").textContent = b.code;
  var active = status === "booked";
  show($("qr-box"), active);
  if (b.qr_svg_url) {
    var qr = $("qr");
    if (qr.getAttribute("src") !== b.qr_svg_url) qr.src = b.qr_svg_url;
    qr.alt = fill(W.qr_alt, { code: b.code });
    var dl = $("download");
    dl.href = b.qr_svg_url;
    dl.setAttribute("download", "ma-dat-lich-" + b.code + ".svg");
  }
  $("when").textContent = when(b);
  $("service-name").textContent = b.service_name || b.service;
  $("person").textContent = [b.name, b.phone].filter(Boolean).join(" · ");
  var checkIn = $("check-in");
  if (active && b.check_in_from && b.check_in_until) {
    checkIn.textContent = fill(W.check_in, { from: time(b.check_in_from), until: time(b.check_in_until) });
  } else checkIn.textContent = active ? W.check_in_how : "";
  show(checkIn, active);
  var note = status === "cancelled" ? W.cancelled_note : status === "checked_in" ? W.checked_in_note : "";
  $("booking-note").textContent = note;
  show($("booking-note"), !!note);
  if (b.manage_url) {
    var url = new URL(b.manage_url, location.href).href;
    var a = $("manage-url");
    a.href = url;
    a.textContent = url;
    show($("manage-box"), !!fresh);  // the manage page is that link itself
  }
  show($("again"), !active || fresh);
}

$("copy").addEventListener("click", function () {
  var url = $("manage-url").href;
  var done = function () { show($("copied"), true); setTimeout(function () { show($("copied"), false); }, 3000); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(url).then(done, function () { selectLink(); });
  } else selectLink();
});
// Where the clipboard is not allowed (plain http on a LAN): select the link for a long-press copy.
function selectLink() {
  var range = document.createRange();
  range.selectNodeContents($("manage-url"));
  var sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
}

// ------------------------------------------------------------ mode "book"

function startBooking() {
  var chosen = { service: null, serviceName: "", day: null, slot: null };
  var info = null;

  function load() {
    show($("loading"), true);
    call("GET", o(office) + "/booking").then(function (data) {
      info = data;
      show($("loading"), false);
      show($("flow"), true);
      renderServices();
    }, function (err) { pageError(err, load); });
  }

  function renderServices() {
    var box = $("services");
    box.textContent = "";
    var bookable = (info.services || []).filter(function (s) { return s.bookable !== false; });
    if (!bookable.length) { box.appendChild(el("p", "notice", W.no_services)); return; }
    bookable.forEach(function (s) {
      var b = el("button", "choice service");
      b.type = "button";
      b.dataset.service = s.code;
      b.setAttribute("aria-pressed", "false");
      b.textContent = s.name;
      b.addEventListener("click", function () {
        press(box, b);
        chosen.service = s.code;
        chosen.serviceName = s.name;
        chosen.slot = null;
        show($("step-form"), false);
        show($("step-slot"), false);
        renderDayStep();
        reveal($("step-day"));
      });
      box.appendChild(b);
    });
  }

  function renderDayStep() {
    var box = $("days");
    var days = info.days || [];
    show($("step-day"), true);
    if (!days.length) { box.textContent = ""; box.appendChild(el("p", "notice", W.no_days)); return; }
    var keep = chosen.day;
    renderDays(box, days, pickDay);
    if (keep && days.indexOf(keep) >= 0) {
      press(box, box.querySelector('[data-day="' + keep + '"]'));
      pickDay(keep, true);
    }
  }

  function pickDay(day, quiet) {
    chosen.day = day;
    chosen.slot = null;
    show($("step-form"), false);
    show($("step-slot"), true);
    loadSlots($("slots"), chosen.service, day, pickSlot);
    if (!quiet) reveal($("step-slot"));
  }

  function pickSlot(slot) {
    chosen.slot = slot;
    $("chosen").textContent = fill(W.chosen, { service: chosen.serviceName, day: dayName(chosen.day), time: span(slot) });
    showError("form-error", "");
    show($("step-form"), true);
    reveal($("step-form"));
    if (!$("name").value) $("name").focus({ preventScroll: true });
  }

  // ---- the form

  function phoneDigits(v) {
    var s = v.replace(/[\s.\-()]/g, "");
    if (s.indexOf("+84") === 0) s = "0" + s.slice(3);
    else if (s.indexOf("84") === 0 && s.length >= 11) s = "0" + s.slice(2);
    return s;
  }
  function check() {
    var ok = true, first = null;
    var name = $("name").value.trim().replace(/\s+/g, " ");
    var letters = (name.match(/\p{L}/gu) || []).length;
    var nameError = !name || /\d/.test(name) ? W.err_name : letters < 2 ? W.err_name_short : "";
    var nameBad = nameError !== "";
    fieldError("name", nameError);
    if (nameBad) { ok = false; first = first || $("name"); }
    var phone = phoneDigits($("phone").value.trim());
    var phoneBad = !/^0\d{8,10}$/.test(phone);
    fieldError("phone", phoneBad ? W.err_phone : "");
    if (phoneBad) { ok = false; first = first || $("phone"); }
    var id = $("id_number").value.replace(/[\s.]/g, "");
    var idBad = id !== "" && !/^(\d{12}|\d{9})$/.test(id);
    fieldError("id", idBad ? W.err_id : "");
    if (idBad) { ok = false; first = first || $("id_number"); }
    if (first) first.focus();
    return ok ? { name: name, phone: phone, id_number: id } : null;
  }
  function fieldError(field, message) {
    var input = $(field === "id" ? "id_number" : field);
    showError(field + "-error", message);
    if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  }
  ["name", "phone", "id_number"].forEach(function (id) {
    $(id).addEventListener("input", function () {
      var field = id === "id_number" ? "id" : id;
      if (!$(field + "-error").hidden) fieldError(field, "");
    });
  });

  var sending = false;
  $("form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (sending || !chosen.slot) return;
    showError("form-error", "");
    var fields = check();
    if (!fields) return;
    var body = { service: chosen.service, start: chosen.slot.start, name: fields.name, phone: fields.phone };
    if (fields.id_number) body.id_number = fields.id_number;
    sending = true;
    var submit = $("submit");
    submit.disabled = true;
    submit.textContent = W.sending;
    call("POST", o(office) + "/bookings", body).then(function (b) {
      show($("flow"), false);
      renderBooking(b, true);
      window.scrollTo(0, 0);
      $("code").focus && $("code").setAttribute("tabindex", "-1");
    }, function (err) {
      if (err.code === "name_too_short") {  // the server's own check, next to the field
        fieldError("name", err.message);
        $("name").focus();
        return;
      }
      showError("form-error", err.message);
      if (err.code === "slot_full") {
        // Someone took the last place: fresh slots, choose again.
        chosen.slot = null;
        show($("step-form"), false);
        loadSlots($("slots"), chosen.service, chosen.day, pickSlot).then(function () {
          showError("slot-notice", err.message);
          $("slot-notice").classList.add("alert");
          $("step-slot").scrollIntoView({ block: "start" });
        });
      }
    }).then(function () {
      sending = false;
      submit.disabled = false;
      submit.textContent = W.submit;
    });
  });

  load();
}

function reveal(section) {
  if (section && section.scrollIntoView) section.scrollIntoView({ behavior: "smooth", block: "start" });
}

// ------------------------------------------------------------ mode "manage"

function startManage() {
  var booking = null, officeCode = office;

  function path() { return o(officeCode) + "/bookings/" + encodeURIComponent(booking.code); }

  function load() {
    show($("loading"), true);
    call("GET", "/public/bookings/" + encodeURIComponent(token)).then(function (b) {
      show($("loading"), false);
      render(b);
    }, function (err) {
      pageError(err.status === 404 ? { message: W.not_found } : err, err.status === 404 ? null : load);
    });
  }

  function render(b) {
    booking = b;
    if (b.office && b.office.code) officeCode = b.office.code;
    else if (typeof b.office === "string") officeCode = b.office;
    renderBooking(b, false);
    var active = (b.status || "booked") === "booked";
    show($("actions"), active);
    if (!active) closeMove();
    $("confirm-text").textContent = fill(W.cancel_confirm, { code: b.code, time: when(b) });
  }

  // ---- cancel: two taps
  $("cancel").addEventListener("click", function () {
    closeMove();
    show($("cancel"), false);
    show($("confirm"), true);
    showError("action-error", "");
    $("cancel-no").focus();
  });
  $("cancel-no").addEventListener("click", function () {
    show($("confirm"), false);
    show($("cancel"), true);
  });
  $("cancel-yes").addEventListener("click", function () {
    var yes = $("cancel-yes");
    yes.disabled = true;
    call("DELETE", path()).then(function (b) {
      show($("confirm"), false);
      show($("cancel"), true);
      show($("moved-note"), false);
      if (b && b.code) render(b); else load();
    }, function (err) {
      showError("action-error", err.message);
      if (err.status === 409) load();
    }).then(function () { yes.disabled = false; });
  });

  // ---- move: another slot of the same service
  var days = null;
  $("move").addEventListener("click", function () {
    show($("confirm"), false);
    show($("cancel"), true);
    show($("move"), false);
    show($("move-box"), true);
    showError("move-error", "");
    show($("moved-note"), false);
    var open = function () {
      var current = localDate(booking.start);
      renderDays($("days"), days, pickDay);
      var start = days.indexOf(current) >= 0 ? current : days[0];
      if (start) {
        press($("days"), $("days").querySelector('[data-day="' + start + '"]'));
        pickDay(start);
      } else showError("slot-notice", W.no_days);
      reveal($("move-box"));
    };
    if (days) return open();
    call("GET", o(officeCode) + "/booking").then(function (info) {
      days = info.days || [];
      open();
    }, function (err) { showError("move-error", err.message); });
  });
  $("move-close").addEventListener("click", closeMove);
  function closeMove() {
    show($("move-box"), false);
    show($("move"), true);
  }
  function pickDay(day) {
    showError("move-error", "");
    loadSlots($("slots"), booking.service, day, pickSlot, booking.start);
  }
  var moving = false;
  function pickSlot(slot, button) {
    if (moving) return;
    if (slot.start === booking.start) { showError("move-error", W.move_same); return; }
    moving = true;
    showError("move-error", "");
    button.setAttribute("aria-busy", "true");
    call("PUT", path(), { start: slot.start }).then(function (b) {
      closeMove();
      render(b && b.code ? b : Object.assign({}, booking, { start: slot.start, end: slot.end }));
      var note = $("moved-note");
      note.textContent = fill(W.moved, { time: when(booking) });
      show(note, true);
      reveal($("result"));
    }, function (err) {
      if (err.code === "slot_full") pickDay(localDate(slot.start));
      showError("move-error", err.message);
    }).then(function () {
      moving = false;
      button.removeAttribute("aria-busy");
    });
  }

  load();
}

if (mode === "manage") startManage(); else startBooking();
