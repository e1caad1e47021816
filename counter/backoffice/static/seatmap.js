// Seat maps of the waiting areas, drawn to scale (metres) from GET /areas and kept live
// from area_changed events. Shared by the seat-map page (/counter/areas) and the
// supervisor wall: import {draw, legend, counts, rules, Store, fmt, width}.
import { client } from "/static/js/api.js";
import { el } from "/static/js/dom.js";
import { words } from "/static/js/words.js";

var NS = "http://www.w3.org/2000/svg";
var MARGIN = 0.5;             // metres of floor around the outermost chair or desk
var SEAT = 0.5;               // a chair's drawn size, smaller when chairs stand closer
var DESK_W = 1.4, DESK_D = 0.5;

function t(table, key, params) { return words(table, {prefix: "seatmap."})(key, params); }
// Numbers as people write them: "1,5" in Vietnamese, "1.5" in English.
function fmt(n, lang) {
  var s = String(Math.round(n * 100) / 100);
  return lang === "en" ? s : s.replace(".", ",");
}
function svg(tag, attrs, parent) {
  var e = document.createElementNS(NS, tag);
  Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
  if (parent) parent.appendChild(e);
  return e;
}

// Occupied wins: the server never leaves anyone on a seat that is not usable, but an
// event may land between two reads.
function kind(seat) {
  if (seat.occupied) return "occupied";
  if (seat.out_of_service) return "out";
  if (!seat.usable) return "blocked";
  return "free";
}

function placed(counters) {
  return counters.filter(function (c) { return c.x != null && c.y != null; });
}

function bounds(area) {
  var xs = [], ys = [];
  area.seats.forEach(function (s) { xs.push(s.x); ys.push(s.y); });
  placed(area.counters).forEach(function (c) {
    xs.push(c.x - DESK_W / 2 + SEAT / 2, c.x + DESK_W / 2 - SEAT / 2);
    ys.push(c.y);
  });
  if (!xs.length) return {x: 0, y: 0, w: 1, h: 1};
  var pad = MARGIN + SEAT / 2;
  var x0 = Math.min.apply(null, xs) - pad, y0 = Math.min.apply(null, ys) - pad;
  return {x: x0, y: y0, w: Math.max.apply(null, xs) + pad - x0, h: Math.max.apply(null, ys) + pad - y0};
}

function seatSize(seats) {
  var best = Infinity;
  for (var i = 0; i < seats.length; i++) {
    for (var j = i + 1; j < seats.length; j++) {
      var d = Math.hypot(seats[i].x - seats[j].x, seats[i].y - seats[j].y);
      if (d > 0 && d < best) best = d;
    }
  }
  return Math.min(SEAT, best * 0.82);
}

function seatTitle(seat, words) {
  var k = kind(seat);
  if (k === "occupied") return t(words, "seat_occupied", {seat: seat.label, number: seat.number});
  return t(words, "seat_" + k, {seat: seat.label});
}

// One chair at (0, 0) of `size` metres; `text` inside (the label or the ticket number).
function chair(g, k, size, text) {
  var h = size / 2;
  svg("rect", {"class": "chair", x: -h, y: -h, width: size, height: size, rx: size * 0.18}, g);
  if (k === "blocked") {  // taped off: one strip across, as on the real chairs
    svg("line", {"class": "tape", x1: -h * 0.8, y1: h * 0.8, x2: h * 0.8, y2: -h * 0.8}, g);
  } else if (k === "out") {
    svg("line", {"class": "cross", x1: -h * 0.6, y1: -h * 0.6, x2: h * 0.6, y2: h * 0.6}, g);
    svg("line", {"class": "cross", x1: -h * 0.6, y1: h * 0.6, x2: h * 0.6, y2: -h * 0.6}, g);
  }
  if (text) {
    // Ticket numbers as large as fit; labels smaller, they are secondary.
    var fit = size * 1.4 / Math.max(2.6, String(text).length);
    var font = Math.min(size * (k === "occupied" ? 0.46 : 0.36), fit);
    var label = svg("text", {x: 0, y: 0, "font-size": font, "text-anchor": "middle",
                             "dominant-baseline": "central"}, g);
    label.textContent = text;
  }
}

// The <svg> of one area. opts: {words, lang, maxWidth (metres: the widest plan on the
// page, so every area is drawn to the same scale), pending: {label: true}, onSeat(seat)}.
function draw(area, opts) {
  var words = opts.words, b = bounds(area), size = seatSize(area.seats);
  var root = svg("svg", {viewBox: [b.x, b.y, b.w, b.h].map(function (n) { return n.toFixed(3); }).join(" "),
                         "class": "seatmap", role: "img", "aria-label": t(words, "map_label", {area: area.code})});
  root.dataset.area = area.code;
  root.dataset.rev = area.rev;
  root.style.width = (opts.maxWidth ? Math.min(100, 100 * b.w / opts.maxWidth) : 100) + "%";
  svg("rect", {"class": "floor", x: b.x, y: b.y, width: b.w, height: b.h}, root);

  placed(area.counters).forEach(function (c) {
    var g = svg("g", {"class": "desk", transform: "translate(" + c.x + " " + c.y + ")"}, root);
    svg("rect", {x: -DESK_W / 2, y: -DESK_D / 2, width: DESK_W, height: DESK_D, rx: 0.06}, g);
    var label = svg("text", {x: 0, y: 0, "font-size": 0.24, "text-anchor": "middle", "dominant-baseline": "central"}, g);
    label.textContent = c.label;
  });

  // The distance rule around each occupied chair, and around the one under the pointer.
  var d = area.min_distance_m;
  var rings = svg("g", {"class": "rings"}, root);
  var hover = svg("circle", {"class": "ring hover", r: d, cx: 0, cy: 0, visibility: "hidden"}, root);
  if (d > 0) {
    area.seats.forEach(function (s) {
      if (s.occupied) svg("circle", {"class": "ring", cx: s.x, cy: s.y, r: d}, rings);
    });
  }

  var pending = opts.pending || {};
  area.seats.forEach(function (s) {
    var k = kind(s);
    var g = svg("g", {"class": "seat k-" + k + (pending[s.label] ? " pending" : ""),
                      transform: "translate(" + s.x + " " + s.y + ")"}, root);
    g.dataset.label = s.label;
    g.dataset.kind = k;
    if (s.occupied) g.dataset.number = s.number;
    svg("title", {}, g).textContent = seatTitle(s, words) + (pending[s.label] ? " — " + t(words, "pending_seat") : "");
    chair(g, k, size, k === "occupied" ? s.number : s.label);
    if (d > 0 && k !== "out") {
      g.addEventListener("mouseenter", function () {
        hover.setAttribute("cx", s.x); hover.setAttribute("cy", s.y); hover.setAttribute("visibility", "visible");
      });
      g.addEventListener("mouseleave", function () { hover.setAttribute("visibility", "hidden"); });
    }
    if (opts.onSeat) {
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      g.setAttribute("aria-label", g.textContent);
      g.addEventListener("click", function () { opts.onSeat(s); });
      g.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); opts.onSeat(s); }
      });
    }
  });
  root.appendChild(hover);  // drawn last: above the chairs
  return root;
}

function legend(words) {
  var list = el("ul", "seat-legend");
  [["free", "1"], ["occupied", "1005"], ["blocked", "2"], ["out", "3"]].forEach(function (item) {
    var li = el("li");
    var icon = svg("svg", {viewBox: "-0.3 -0.3 0.6 0.6", "class": "seatmap icon", "aria-hidden": "true"});
    chair(svg("g", {"class": "seat k-" + item[0]}, icon), item[0], 0.5, item[1]);
    li.appendChild(icon);
    li.appendChild(el("span", null, t(words, "legend_" + item[0])));
    list.appendChild(li);
  });
  if (words["seatmap.legend_ring"]) {
    var li = el("li", "ring-item");
    var icon = svg("svg", {viewBox: "-0.3 -0.3 0.6 0.6", "class": "seatmap icon", "aria-hidden": "true"});
    svg("circle", {"class": "ring", r: 0.26, cx: 0, cy: 0}, icon);
    li.appendChild(icon);
    li.appendChild(el("span", null, t(words, "legend_ring")));
    list.appendChild(li);
  }
  return list;
}

// The numbers people act on, as a <dl>.
function counts(area, words) {
  var dl = el("dl", "seat-counts");
  [["capacity", area.capacity], ["used", area.used], ["free", area.free], ["outside", area.outside],
   ["share_cap", area.share_cap]].forEach(function (row) {
    var div = el("div", "c-" + row[0]);
    div.appendChild(el("dt", null, t(words, "count_" + row[0])));
    div.appendChild(el("dd", null, String(row[1])));
    dl.appendChild(div);
  });
  return dl;
}

function rules(area, words, lang) {
  return t(words, area.min_distance_m > 0 ? "rules" : "rules_no_distance", {
    share: fmt(area.max_share * 100, lang), distance: fmt(area.min_distance_m, lang),
    in_service: area.in_service, total: area.seats_total});
}

// The office's areas: read from `url`, patched by area_changed, re-read when an event's
// `rev` says the rules changed or its `change` (each area numbers its changes, one per
// event) says one was missed. render(areas) is called after every change.
function Store(url, lang, render, onError) {
  this.url = url; this.lang = lang; this.render = render; this.onError = onError || function () {};
  this.areas = null; this.loading = false; this.again = false;
}
Store.prototype.load = function () {
  var self = this;
  if (self.loading) { self.again = true; return; }
  self.loading = true;
  client({base: "", lang: self.lang}).call("GET", self.url)
    .then(function (json) { self.areas = json.areas; self.onError(null); self.render(self.areas); })
    .catch(function (err) { self.onError(err); })
    .then(function () {
      self.loading = false;
      if (self.again) { self.again = false; self.load(); }
    });
};
Store.prototype.find = function (code) {
  return (this.areas || []).filter(function (a) { return a.code === code; })[0];
};
Store.prototype.replace = function (area) {  // a PUT's reply: the area as it now is
  var i = (this.areas || []).indexOf(this.find(area.code));
  if (i < 0) return this.load();
  this.areas[i] = area;
  this.render(this.areas);
};
Store.prototype.changed = function (ev) {
  var area = this.find(ev && ev.code);
  if (area && typeof ev.change === "number" && ev.change <= area.change) return;  // already shown
  if (!area || ev.rev !== area.rev || ev.change !== area.change + 1) return this.load();
  var on = {};  // the chairs this change gave a new holder (a number), or freed (null)
  (ev.seats || []).forEach(function (o) { on[o.seat] = o.number; });
  area.seats.forEach(function (s) {
    if (!Object.prototype.hasOwnProperty.call(on, s.label)) return;
    s.occupied = on[s.label] != null;
    s.number = on[s.label];
  });
  ["capacity", "used", "free", "outside", "change"].forEach(function (k) { if (k in ev) area[k] = ev[k]; });
  this.render(this.areas);
};

export function width(area) { return bounds(area).w; }
export { draw, legend, counts, rules, Store, fmt };
