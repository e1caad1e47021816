// Taking a number from a phone (/lay-so/<office>): the offer, a service (and procedure),
// the phone (and a one-time code when the office asks), then the ticket's status page.
import { client } from "/static/js/api.js";
import { $, readJson, show } from "/static/js/dom.js";

var root = $("remote");
var office = root.dataset.office, lang = root.dataset.lang;
var W = readJson("remote-words");
var api = client({ lang: lang });
var base = "/public/offices/" + encodeURIComponent(office) + "/remote";
var chosen = { service: null, procedure: null };
var busy = false;

function say(text) { $("status").textContent = text || ""; show($("status"), !!text); }
function failed(e) {
  $("error").textContent = e.message || W.network;
  show($("error"), true);
}
function button(label, onClick, disabled) {
  var b = document.createElement("button");
  b.type = "button";
  b.className = "choice";
  b.textContent = label;
  b.disabled = !!disabled;
  b.addEventListener("click", onClick);
  return b;
}
function step(name) {
  ["service", "procedure", "phone"].forEach(function (s) { show($("step-" + s), s === name); });
}

function offer(o) {
  if (!o.enabled) return say(W.off);
  if (!o.open) return say(W.closed);
  say("");
  show($("code-box"), !!o.code_required);
  var list = $("services");
  list.textContent = "";
  o.services.forEach(function (sv) {
    list.appendChild(button(sv.paused ? sv.name + " · " + W.paused : sv.name, function () { pick(sv); }, sv.paused));
  });
  step("service");
}

function pick(sv) {
  chosen = { service: sv, procedure: null };
  if (!sv.procedures.length) return toPhone();
  var list = $("procedures");
  list.textContent = "";
  sv.procedures.forEach(function (p) {
    list.appendChild(button(p.name, function () { chosen.procedure = p; toPhone(); }));
  });
  list.appendChild(button(W.procedure_other, function () { toPhone(); }));
  step("procedure");
}

function toPhone() {
  $("chosen").textContent = chosen.service.name + (chosen.procedure ? " · " + chosen.procedure.name : "");
  show($("error"), false);
  step("phone");
  $("phone").focus();
}

$("change").addEventListener("click", function () { step("service"); });
$("phone").addEventListener("input", function () { show($("error"), false); });

$("send-code").addEventListener("click", function () {
  show($("error"), false);
  api.call("POST", base + "/code", { phone: $("phone").value })
    .then(function () { show($("code-sent"), true); $("code").focus(); }, failed);
});

$("form").addEventListener("submit", function (ev) {
  ev.preventDefault();
  if (busy) return;
  busy = true;
  show($("error"), false);
  $("submit").textContent = W.sending;
  var body = { service: chosen.service.code, phone: $("phone").value };
  if (chosen.procedure) body.procedure = chosen.procedure.code;
  if (!$("code-box").hidden && $("code").value) body.code = $("code").value;
  api.call("POST", base + "/tickets", body)
    .then(function (t) { location.assign("/t/" + encodeURIComponent(t.token)); }, failed)
    .then(function () { busy = false; $("submit").textContent = W.submit; });
});

api.call("GET", base).then(offer, function () { say(W.load_failed); });
