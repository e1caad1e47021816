// The status page's "text me when my turn is near" box (server/engine/ticketphones.py): a
// walk-in leaves a phone while the ticket waits; the reply says only that one is left
// (phone_left), never the number. Shown while a phone may be left (phone_allowed: waiting,
// not a booking) or one is left; the number is deleted when the ticket ends, or on "xóa".
import { $, show } from "/static/js/dom.js";
import { fill } from "/static/js/words.js";

export function phoneBox(api, token, lang, W, render) {
  var box = $("phone-box");
  if (!box) return function () {};
  var path = "/public/tickets/" + encodeURIComponent(token) + "/phone?lang=" + encodeURIComponent(lang);
  var busy = false;

  function failed(e) {
    $("phone-error").textContent = fill(W.phone_failed, { message: e.message || "" });
    show($("phone-error"), true);
  }
  function send(method, body) {
    if (busy) return;
    busy = true;
    show($("phone-error"), false);
    api.call(method, path, body)
      .then(function (t) { $("phone").value = ""; render(t, true); }, failed)
      .then(function () { busy = false; });
  }
  $("phone-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    send("POST", { phone: $("phone").value });
  });
  $("phone-drop").addEventListener("click", function () { send("DELETE"); });

  return function update(t) {
    var left = !!t.phone_left, open = t.status === "waiting";
    show(box, open && (left || !!t.phone_allowed));
    show($("phone-form"), !left);
    show($("phone-done"), left);
  };
}
