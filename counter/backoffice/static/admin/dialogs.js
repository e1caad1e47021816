// Quản trị: the confirm step, and the dialog that shows a token or password once.
import { $, el, button } from "/static/js/dom.js";
import { nextId, t } from "./common.js";
import { reasons } from "./forms.js";

export function confirmStep(title, text, yes, run) {
  var dlg = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-error").hidden = true;
  var go = $("confirm-yes");
  var fresh = go.cloneNode(false);
  fresh.textContent = yes;
  go.replaceWith(fresh);
  var back = document.activeElement;
  fresh.addEventListener("click", function () {
    fresh.disabled = true;
    Promise.resolve(run()).then(function (r) {
      fresh.disabled = false;
      if (r && !r.ok) {
        $("confirm-error").textContent = reasons(r);
        $("confirm-error").hidden = false;
        return;
      }
      dlg.close();
    });
  });
  dlg.onclose = function () { refocus(back); };
  dlg.showModal();
  $("confirm-no").focus();
}

// A token or password: shown once, with a copy button and a plain warning.
export function showSecret(title, warning, rows) {
  var dlg = $("secret");
  $("secret-title").textContent = title;
  $("secret-warning").textContent = warning;
  var box = $("secret-rows");
  box.replaceChildren();
  rows.forEach(function (r) {
    var line = el("div", "secret-row");
    var id = nextId("secret");
    var label = el("label", null, r.label);
    label.htmlFor = id;
    var input = el("textarea");
    input.id = id;
    input.rows = r.value.length > 40 ? 2 : 1;
    input.readOnly = true;
    input.value = r.value;
    input.className = "secret-value" + (r.cls ? " " + r.cls : "");
    input.spellcheck = false;
    input.addEventListener("focus", function () { input.select(); });
    var note = el("span", "copied");
    note.setAttribute("aria-live", "polite");
    var copy = button(t("secret.copy"), "secondary", function () {
      copyText(input).then(function (ok) { note.textContent = ok ? t("secret.copied") : t("secret.copy_failed"); });
    }, t("secret.copy_what", {what: r.label}));
    var tools = el("div", "secret-tools");
    tools.appendChild(input);
    tools.appendChild(copy);
    line.appendChild(label);
    line.appendChild(tools);
    line.appendChild(note);
    box.appendChild(line);
  });
  var back = document.activeElement;
  dlg.onclose = function () { box.replaceChildren(); refocus(back); };
  dlg.showModal();
  box.querySelector(".secret-value").focus();
}

function refocus(node) {
  if (node && document.body.contains(node) && !document.querySelector("dialog[open]")) node.focus();
}

function copyText(input) {
  input.focus();
  input.select();
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(input.value).then(function () { return true; }, function () { return legacyCopy(); });
  }
  return Promise.resolve(legacyCopy());
}
function legacyCopy() {
  try { return document.execCommand("copy"); } catch (e) { return false; }
}

