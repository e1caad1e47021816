// Seat-map page: every waiting area drawn to scale, live. Admins change an area's rules
// (share in percent, distance in metres) and click chairs to take them out of service or
// back; nothing is sent until they press Save (one PUT), then the map redraws.
import { client } from "/static/js/api.js";
import { el, readJson } from "/static/js/dom.js";
import { connect } from "/static/js/live.js";
import { words } from "/static/js/words.js";
import * as SeatMap from "./seatmap.js";

var cfg = readJson("config");
var W = cfg.t;
var POLL_ONLINE = 60000, POLL_OFFLINE = 5000;
var online = false, pollTimer = null;
var sections = {};  // area code -> {root, map, counts, rules, form parts, pending: {label: true}, dirty}

var t = words(W, {prefix: "seatmap."});
var api = client({base: "", csrf: cfg.csrf, lang: cfg.lang, failed: function () { return t("failed"); },
                  onUnauthorized: function () { location.href = cfg.home; }});
function fmt(n) { return SeatMap.fmt(n, cfg.lang); }

var store = new SeatMap.Store(cfg.areas, cfg.lang, render, function (err) {
  document.getElementById("load-error").hidden = !err;
});

function render(areas) {
  document.getElementById("no-areas").hidden = areas.length > 0;
  document.getElementById("legend").hidden = document.getElementById("help").hidden = areas.length === 0;
  var box = document.getElementById("areas");
  var widest = currentWidest();
  var seen = {};
  areas.forEach(function (area) {
    seen[area.code] = true;
    var sec = sections[area.code] || build(area);
    box.appendChild(sec.root);  // keeps the server's order
    update(sec, area, widest);
  });
  Object.keys(sections).forEach(function (code) {
    if (!seen[code]) { sections[code].root.remove(); delete sections[code]; }
  });
}

function build(area) {
  var sec = {pending: {}, dirty: false};
  sec.root = el("section", "area");
  sec.root.id = "area-" + area.code;
  sec.root.dataset.code = area.code;
  var head = el("header", "area-head");
  sec.title = el("h2");
  sec.services = el("p", "area-services");
  head.appendChild(sec.title);
  head.appendChild(sec.services);
  sec.root.appendChild(head);
  var body = el("div", "area-body");
  sec.map = el("figure", "area-map");
  var side = el("div", "area-side");
  sec.counts = el("div");
  sec.rules = el("p", "area-rules");
  sec.note = el("p", "area-note");
  side.appendChild(sec.counts);
  side.appendChild(sec.rules);
  side.appendChild(sec.note);
  if (cfg.can_edit) side.appendChild(editor(sec, area));
  body.appendChild(sec.map);
  body.appendChild(side);
  sec.root.appendChild(body);
  sections[area.code] = sec;
  return sec;
}

function update(sec, area, widest) {
  sec.area = area;
  sec.root.dataset.rev = area.rev;
  var name = cfg.lang === "en" && area.name_en ? area.name_en : area.name;
  sec.title.textContent = area.code + " — " + name;
  sec.services.textContent = t("services", {codes: area.services.join(", ") || "—"});
  // Focus stays on the chair being toggled with the keyboard across the redraw.
  var focused = document.activeElement && sec.map.contains(document.activeElement)
    ? document.activeElement.dataset.label : null;
  sec.map.replaceChildren(SeatMap.draw(area, {
    words: W, lang: cfg.lang, maxWidth: widest, pending: sec.pending,
    onSeat: cfg.can_edit ? function (seat) { toggle(sec, seat); } : null}));
  if (focused != null) {
    var again = sec.map.querySelector('.seat[data-label="' + CSS.escape(focused) + '"]');
    if (again) again.focus();
  }
  sec.counts.replaceChildren(SeatMap.counts(area, W));
  sec.rules.textContent = SeatMap.rules(area, W, cfg.lang);
  sec.note.textContent = area.exact ? "" : t("heuristic");
  sec.note.hidden = !!area.exact;
  if (cfg.can_edit) refreshEditor(sec);
}

// ------------------------------------------------------------ the admin's form
function field(id, label, unit, hint) {
  var wrap = el("div", "field");
  var lab = el("label", null, label);
  lab.htmlFor = id;
  var row = el("div", "input-row");
  var input = el("input");
  input.id = id;
  input.type = "text";
  input.inputMode = "decimal";
  input.autocomplete = "off";
  input.setAttribute("aria-describedby", id + "-hint");
  row.appendChild(input);
  row.appendChild(el("span", "unit", unit));
  var small = el("small", null, hint);
  small.id = id + "-hint";
  wrap.appendChild(lab);
  wrap.appendChild(row);
  wrap.appendChild(small);
  return {wrap: wrap, input: input};
}

function editor(sec, area) {
  var form = el("form", "area-edit");
  form.noValidate = true;
  form.appendChild(el("h3", null, t("edit_title")));
  var share = field("share-" + area.code, t("max_share"), "%", t("max_share_hint"));
  var dist = field("distance-" + area.code, t("min_distance"), "m", t("min_distance_hint"));
  share.input.name = "max_share";
  dist.input.name = "min_distance_m";
  [share, dist].forEach(function (f) {
    f.input.addEventListener("input", function () { sec.dirty = true; sec.saved.hidden = true; });
    form.appendChild(f.wrap);
  });
  sec.share = share.input;
  sec.dist = dist.input;
  sec.pendingNote = el("p", "pending-note");
  sec.pendingNote.hidden = true;
  form.appendChild(sec.pendingNote);
  sec.error = el("p", "error");
  sec.error.hidden = true;
  sec.error.setAttribute("role", "alert");
  form.appendChild(sec.error);
  sec.saved = el("p", "saved", t("saved"));
  sec.saved.hidden = true;
  sec.saved.setAttribute("role", "status");
  form.appendChild(sec.saved);
  var actions = el("div", "actions");
  sec.save = el("button", "primary", t("save"));
  sec.save.type = "submit";
  var reset = el("button", null, t("reset"));
  reset.type = "button";
  reset.className = "reset";
  reset.addEventListener("click", function () {
    sec.pending = {}; sec.dirty = false; sec.error.hidden = true;
    update(sec, sec.area, currentWidest());
  });
  actions.appendChild(sec.save);
  actions.appendChild(reset);
  form.appendChild(actions);
  form.addEventListener("submit", function (e) { e.preventDefault(); submit(sec); });
  return form;
}

function currentWidest() {
  return Math.max.apply(null, (store.areas || []).map(SeatMap.width).concat([1]));
}

function refreshEditor(sec) {
  var area = sec.area;
  if (!sec.dirty) {  // never overwrite what the admin is typing
    sec.share.value = fmt(area.max_share * 100);
    sec.dist.value = fmt(area.min_distance_m);
  }
  var labels = Object.keys(sec.pending);
  sec.pendingNote.hidden = labels.length === 0;
  if (labels.length) {
    var off = [], on = [];
    area.seats.forEach(function (s) {
      if (sec.pending[s.label]) (s.out_of_service ? on : off).push(s.label);
    });
    var parts = [];
    if (off.length) parts.push(t("pending_off", {seats: off.join(", ")}));
    if (on.length) parts.push(t("pending_on", {seats: on.join(", ")}));
    sec.pendingNote.textContent = t("pending", {changes: parts.join("; ")});
  }
}

function toggle(sec, seat) {
  if (sec.pending[seat.label]) delete sec.pending[seat.label];
  else sec.pending[seat.label] = true;
  sec.saved.hidden = true;
  update(sec, sec.area, currentWidest());
}

// "50", "50%", "33,5" -> 50, 33.5; anything else -> NaN.
function number(text) {
  var s = text.trim().replace(/\s*%$/, "").replace(",", ".");
  return /^\d+(\.\d+)?$/.test(s) ? parseFloat(s) : NaN;
}

function validate(sec) {
  var pct = number(sec.share.value), dist = number(sec.dist.value);
  if (sec.share.value.trim() === "") return [sec.share, t("share_missing")];
  if (isNaN(pct)) return [sec.share, t("share_not_number")];
  if (pct <= 0 || pct > 100) return [sec.share, t("share_range")];
  if (sec.dist.value.trim() === "") return [sec.dist, t("distance_missing")];
  if (/^\s*-/.test(sec.dist.value)) return [sec.dist, t("distance_negative")];
  if (isNaN(dist)) return [sec.dist, t("distance_not_number")];
  return [null, null, Math.round(pct * 100) / 10000, dist];
}

function submit(sec) {
  var area = sec.area;
  sec.error.hidden = true;
  sec.saved.hidden = true;
  [sec.share, sec.dist].forEach(function (i) { i.removeAttribute("aria-invalid"); });
  var v = validate(sec);
  if (v[0]) { fail(sec, v[1]); v[0].setAttribute("aria-invalid", "true"); v[0].focus(); return; }
  var change = {};
  if (Math.abs(v[2] - area.max_share) > 1e-9) change.max_share = v[2];
  if (Math.abs(v[3] - area.min_distance_m) > 1e-9) change.min_distance_m = v[3];
  var labels = Object.keys(sec.pending);
  if (labels.length) {
    change.out_of_service = area.seats.filter(function (s) {
      return s.out_of_service !== !!sec.pending[s.label];
    }).map(function (s) { return s.label; });
  }
  if (!Object.keys(change).length) { fail(sec, t("nothing_changed")); return; }
  sec.save.disabled = true;
  sec.save.textContent = t("saving");
  api.call("PUT", cfg.area.replace("{code}", encodeURIComponent(area.code)), change).then(function (json) {
    sec.pending = {};
    sec.dirty = false;
    sec.saved.hidden = false;
    if (json && json.code === area.code) store.replace(json);
    else store.load();
  }).catch(function (err) {
    if (err.status === 401) return;  // signed out: on the way to the login page
    fail(sec, err.offline ? t("offline_save") : err.message);
  }).then(function () {
    sec.save.disabled = false;
    sec.save.textContent = t("save");
  });
}

function fail(sec, text) {
  sec.error.textContent = text;
  sec.error.hidden = false;
}

// ------------------------------------------------------------ live
function schedule() {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(function () { store.load(); schedule(); }, online ? POLL_ONLINE : POLL_OFFLINE);
}
function setOnline(value) {
  online = value;
  document.getElementById("offline").hidden = value;
  schedule();
}
document.getElementById("legend").appendChild(SeatMap.legend(W));
// The snapshot comes on every (re)connect and after a gap in the office's events: read the areas again.
connect({onStatus: setOnline, onSnapshot: function () { store.load(); }}).on("area_changed", function (ev) { store.changed(ev); });
store.load();
schedule();
