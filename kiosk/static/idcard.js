/* The chip ID card at the kiosk (README "The chip ID card at the kiosk"). The barcode
 * scanner types the card's QR text (number|old number|name|birth|sex|address|issued) like a
 * booking code; kiosk.js hands every scanned burst here first. The text goes to the server,
 * which answers with today's booking checked in, or what to offer a walk-in (priority for the
 * elderly), or why not (the day's numbers used up, an unreadable card). The text is held in
 * memory only until the number is issued or the citizen leaves, and sent with the ticket so
 * the server counts it and grants the priority itself. Nothing is kept in the page. */

import { looksLikeCard } from "/static/js/idcard.js";

var MESSAGE_MS = 15000;

// ctx: t, api, office, mode ("off" | "offered" | "required"), state, busy(), busyOn(words),
// busyOff(), toStart(), showTicket(ticket, booking), showCheckedIn(reply, code),
// showMessage(text, title, opts), failed(reply), renderPriority().
export function idCardStep(ctx) {
  var held = null;      // the scanned text, until the number is issued or the citizen leaves
  var granted = null;   // the priority group the card's age granted

  function render() {
    var hint = document.getElementById("idcard-hint");
    var read = document.getElementById("idcard-state");
    if (hint) {
      hint.hidden = ctx.mode === "off" || !!held;
      hint.textContent = ctx.t(ctx.mode === "required" ? "idcard.hint_required" : "idcard.hint");
    }
    if (read) {
      read.hidden = !held;
      read.classList.toggle("is-priority", !!granted);
      read.textContent = granted ? ctx.t("idcard.priority") : ctx.t("idcard.read");
    }
  }

  function clear() {
    held = null;
    granted = null;
    render();
  }

  function answer(raw, r) {
    var d = r.data || {};
    if (r.status === 201 && d.number) return ctx.showTicket(d, { code: d.booking });
    if (r.status === 200 && d.result === "walk_in") {
      ctx.toStart();
      held = raw;
      granted = d.priority_group || null;
      ctx.state.priority = !!d.priority;
      ctx.renderPriority();
      render();
      return null;
    }
    if (r.status === 409 && d.error === "already_checked_in") return ctx.showCheckedIn(d, typeof d.booking === "string" ? d.booking : "");
    var titles = { citizen_cap_reached: "idcard.cap_title", id_card_unreadable: "idcard.unreadable_title",
                   id_card_off: "idcard.off_title", too_early: "checkin.early_title" };
    if (titles[d.error]) return ctx.showMessage(d.message || "", ctx.t(titles[d.error]), { ms: MESSAGE_MS });
    return ctx.failed(r);
  }

  // A scanned burst: true when it was a card's (taken here), false to let kiosk.js try it.
  function scan(raw) {
    if (!looksLikeCard(raw)) return false;
    if (ctx.busy()) return true;
    ctx.busyOn("idcard.busy");
    ctx.api("POST", "/offices/" + encodeURIComponent(ctx.office) + "/id-card", { id_card: raw })
      .then(function (r) { return answer(raw, r); })
      .catch(function () { ctx.showMessage(ctx.t("error.network")); })
      .finally(ctx.busyOff);
    return true;
  }

  // The ticket request carries the card, so the server counts it and grants the priority.
  function addTo(wanted) {
    if (held) wanted.id_card = held;
    return wanted;
  }

  return { scan: scan, addTo: addTo, clear: clear, render: render };
}
