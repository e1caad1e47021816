/* Cần hỗ trợ (issue 19): a button on every kiosk screen that calls a guide from the
 * entrance. A tap sends POST /api/v1/offices/<office>/guide/help (one open request per
 * kiosk: a second tap changes nothing) and tells the citizen a guide is coming until one
 * acknowledges it on the guide's page; the kiosk hears that as "help_changed" in its own
 * room (server/engine/guides.py). A reload asks for the kiosk's open request again.
 *
 * kiosk.js lends what it has: helpButton({t, api, office, live}). */
import { $ } from "/static/js/dom.js";

var ANSWERED_MS = 20000;  // "a guide is on the way" stays this long, then the banner goes

export function helpButton(k) {
  var path = "/offices/" + encodeURIComponent(k.office) + "/guide/help";
  var current = null, hideTimer = null;

  function show(key) {
    var banner = $("help-banner");
    clearTimeout(hideTimer);
    banner.hidden = !key;
    if (key) {
      banner.dataset.t = key;  // kiosk.js translates [data-t] when the language changes
      banner.textContent = k.t(key);
    } else {
      delete banner.dataset.t;
    }
    $("help-ask").setAttribute("aria-pressed", String(key === "help.coming"));
  }

  function apply(help) {
    current = help;
    if (!help) return show(null);
    if (help.state === "open") return show("help.coming");
    show("help.answered");
    hideTimer = setTimeout(function () { show(null); current = null; }, ANSWERED_MS);
  }

  async function ask() {
    if (current && current.state === "open") return;
    try {
      var r = await k.api("POST", path, {});
      if (r.ok) apply(r.data); else show("help.failed");
    } catch (e) {
      show("help.failed");
    }
  }

  $("help-ask").addEventListener("click", ask);
  k.live.on("help_changed", function (help) { if (!current || help.id === current.id || help.state === "open") apply(help); });
  k.api("GET", path).then(function (r) { if (r.ok && r.data && r.data.help) apply(r.data.help); }).catch(function () {});
  return { ask: ask };
}
