// Live dashboard: today's figures of the office. On any office event heard over Socket.IO
// (the session cookie admits the page to its office's room) it re-reads GET .../report, at
// most once every cfg.throttle_ms, and every cfg.poll_ms anyway; the hourly chart is
// re-drawn by the server (GET /counter/reports/hourly.svg). Figures are written into the
// elements the server rendered (data-field, data-format), in the same formats as the page.
import { client, errorOf } from "/static/js/api.js";
import { el, readJson } from "/static/js/dom.js";
import { connect } from "/static/js/live.js";
import { words } from "/static/js/words.js";

var cfg = readJson("config");
var vi = cfg.lang !== "en";
var loading = false, again = false, last = 0, soonTimer = null, pollTimer = null;

var t = words(cfg.t);
var api = client({base: "", lang: cfg.lang, onUnauthorized: function () { location.href = cfg.home; }});

// ------------------------------------------------------------ formats (as counter/reports.py)
function grouped(digits) { return digits.replace(/\B(?=(\d{3})+(?!\d))/g, vi ? "." : ","); }
function int(n) { return grouped(String(Math.round(n || 0))); }
function percent(share) {
  if (share == null) return "—";
  var v = (Math.round(share * 1000) / 10).toFixed(1).replace(/\.0$/, "");
  var parts = v.split(".");
  v = grouped(parts[0]) + (parts[1] ? (vi ? "," : ".") + parts[1] : "");
  return vi ? v + " %" : v + "%";
}
function pad(n) { return (n < 10 ? "0" : "") + n; }
function duration(seconds) {
  if (seconds == null) return "—";
  var total = Math.round(seconds), h = Math.floor(total / 3600), m = Math.floor(total % 3600 / 60), s = total % 60;
  return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
}
function rating(r) { return r && r.count ? percent(r.share) + " (" + int(r.count) + ")" : "—"; }
function days(n) {  // one decimal at most, as charts.number(value, lang, 1)
  if (n == null) return "—";
  var v = (Math.round(n * 10) / 10).toFixed(1).replace(/\.0$/, "");
  return vi ? v.replace(".", ",") : v;
}
function fmt(value, kind) {
  switch (kind) {
    case "int": return int(value);
    case "duration": return duration(value);
    case "percent": return percent(value);
    case "rating": return rating(value);
    case "days": return days(value);
    default: return value == null ? "" : String(value);
  }
}
function get(row, path) {
  return path.split(".").reduce(function (v, part) { return v == null ? null : v[part]; }, row);
}
function dayLabel(iso) {  // "T2 23/11/2026", as the server writes it
  var p = iso.split("-"), d = new Date(Date.UTC(+p[0], +p[1] - 1, +p[2]));
  return t("charts.wd." + d.getUTCDay()) + " " + p[2] + "/" + p[1] + "/" + p[0];
}
function clock(iso) {
  var at = iso ? new Date(iso) : new Date();
  var options = {hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false};
  try { return at.toLocaleTimeString("en-GB", Object.assign({timeZone: cfg.timezone}, options)); }
  catch (e) { return at.toLocaleTimeString("en-GB", options); }
}

// ------------------------------------------------------------ drawing
function fillRow(tr, row, columns, formats) {
  columns.forEach(function (f, i) {
    var td = tr.children[i + 1] || tr.appendChild(el("td", "n"));
    td.dataset.field = f;
    td.dataset.format = formats[i];
    td.textContent = fmt(get(row, f), formats[i]);
  });
}
function fillTable(group, rows, totals) {
  var table = document.getElementById("table-" + group);
  if (!table) return;
  var columns = JSON.parse(table.dataset.columns), formats = JSON.parse(table.dataset.formats);
  var body = table.tBodies[0];
  var trs = (rows || []).map(function (row) {
    var tr = el("tr");
    tr.dataset.key = row.key;
    var th = el("th", null, row.label || row.key);
    th.scope = "row";
    tr.appendChild(th);
    fillRow(tr, row, columns, formats);
    return tr;
  });
  if (!trs.length) {
    var none = el("tr", "none"), td = el("td", null, t("reports.dashboard.empty"));
    td.colSpan = columns.length + 1;
    none.appendChild(td);
    trs = [none];
  }
  body.replaceChildren.apply(body, trs);
  var foot = table.tFoot;
  if (!rows || !rows.length) { if (foot) foot.remove(); return; }
  if (!foot) {
    foot = table.createTFoot();
    var tr = foot.appendChild(el("tr"));
    var th = el("th", null, t("reports.dashboard.total"));
    th.scope = "row";
    tr.appendChild(th);
  }
  fillRow(foot.rows[0], totals, columns, formats);
}
// A target's state, as the server wrote it (counter/backoffice/reports.py goal_state): against
// the row's own target when it carries one (a dossier row's post_target), else the page's.
function goal(node, totals) {
  var own = node.dataset.goal === "post_share" ? get(totals, "post_target") : null;
  var value = get(totals, node.dataset.goal), target = own != null ? own : Number(node.dataset.target);
  var state = value == null ? "" : (node.dataset.direction === "min" ? value >= target : value <= target) ? "met" : "missed";
  node.textContent = t("reports.goal." + (state || "none"));
  var tile = node.closest(".tile");
  tile.classList.remove("met", "missed");
  if (state) tile.classList.add(state);
}
function render(report) {
  document.querySelectorAll("#tiles [data-field], #goals [data-field]").forEach(function (node) {
    node.textContent = fmt(get(report.totals, node.dataset.field), node.dataset.format);
  });
  document.querySelectorAll("#goals [data-goal]").forEach(function (node) { goal(node, report.totals); });
  var dossiers = report.dossiers && report.dossiers.totals;  // dossiers today (server/read/report_dossiers.py)
  if (dossiers) {
    document.querySelectorAll("#dossiers [data-field]").forEach(function (node) {
      node.textContent = fmt(get(dossiers, node.dataset.field), node.dataset.format);
    });
    document.querySelectorAll("#dossiers [data-goal]").forEach(function (node) { goal(node, dossiers); });
    var overdue = document.querySelector("#dossiers [data-tile=dossier-overdue]");
    if (overdue) overdue.classList.toggle("alert", dossiers.overdue > 0);
  }
  fillTable("service", report.by_service, report.totals);
  fillTable("counter", report.by_counter, report.totals);
  document.getElementById("updated").textContent = t("reports.dashboard.updated", {time: clock(report.generated_at)});
  if (report.from) document.getElementById("day").textContent = dayLabel(report.from);  // past midnight: the new day
  document.body.dataset.generated = report.generated_at || "";
}

// ------------------------------------------------------------ loading
function svg(url) {
  return api.request("GET", url, undefined, {"Accept": "image/svg+xml"}).then(function (r) {
    if (!r.ok) throw errorOf(r);
    return r.text;
  });
}
function load() {
  if (loading) { again = true; return; }
  loading = true;
  last = Date.now();
  clearTimeout(pollTimer);
  var sep = cfg.chart.indexOf("?") < 0 ? "?" : "&";
  Promise.all([
    api.call("GET", cfg.report),
    svg(cfg.chart + sep + "lang=" + cfg.lang)
  ]).then(function (got) {
    render(got[0]);
    document.getElementById("hourly").innerHTML = got[1];  // our own server's escaped SVG
    document.getElementById("load-error").hidden = true;
  }).catch(function () {
    document.getElementById("load-error").hidden = false;
  }).then(function () {
    loading = false;
    if (again) { again = false; soon(); }
    pollTimer = setTimeout(load, cfg.poll_ms);
  });
}
// At most one read per throttle period, however many events arrive.
function soon() {
  if (soonTimer) return;
  soonTimer = setTimeout(function () { soonTimer = null; load(); },
                         Math.max(0, last + cfg.throttle_ms - Date.now()));
}

// ------------------------------------------------------------ live
function setOnline(value) { document.getElementById("offline").hidden = value; }
// Every event, and the snapshot of each (re)connect or gap: read the figures again, soon.
connect({onStatus: setOnline, onSnapshot: soon}).onAny(function () { soon(); });
last = Date.now();  // the server just rendered today's figures
pollTimer = setTimeout(load, cfg.poll_ms);
