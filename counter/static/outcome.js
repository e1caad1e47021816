/* Quầy giao dịch: what the visit achieved, recorded at completion.

   While a ticket is at the counter the panel offers six outcomes on the keys 1–6 (pressed
   again: none), the procedure (the service's first, then the office's others, to correct
   what the kiosk was told), the dossier's receipt code and, for `incomplete`, the missing
   documents; for `received`, the citizen's phone for "your result is ready" (optional: it
   goes to the dossier register, never on the ticket). "Complete" (C) and "Complete & call next" (Shift+Enter) send whatever is
   chosen; nothing chosen completes as before, in one keystroke.

   A keyboard-wedge barcode scanner types the receipt code fast and ends with Enter, maybe
   while the page (not the field) has the focus: a burst of keys faster than a person types
   goes into the code field instead of being taken as shortcuts, so single keys wait
   BURST_MS before they act. The code entered (Enter, or the burst's end) is looked up: a
   dossier already sent back for completion is flagged ("không bổ sung hồ sơ quá một lần"). */
import { $, el } from "/static/js/dom.js";
import { fill as fmt } from "/static/js/words.js";

export const OUTCOMES = ["received", "returned", "online", "advice", "incomplete", "referred"];
const BURST_MS = 45;        // keys closer than this are a scanner, not a person
const SCAN_MIN = 3;         // a burst this long is a code

/* `api(method, path)` talks to the server; `shortcut(key)` runs a desk shortcut. */
export function outcomePanel({ W, api, office, shortcut }) {
  let catalogue = null;     // the office's procedures (GET /offices/<office>/procedures)
  let ticketId = null;      // the ticket the panel is about: another one starts afresh
  let ticket = null;
  let chosen = null;        // one of OUTCOMES, or null
  let looked = "";          // the code last looked up
  let burst = [], burstTimer = null, lastKey = 0;

  const box = $("outcome");
  const buttons = new Map();
  OUTCOMES.forEach((name, i) => {
    const b = el("button", "btn outcome-btn");
    b.type = "button";
    b.dataset.outcome = name;
    b.setAttribute("aria-pressed", "false");
    const key = el("kbd", null, String(i + 1));
    b.append(key, el("span", null, W["outcome_" + name]));
    b.addEventListener("click", () => { b.blur(); choose(name); });
    $("outcome-buttons").append(b);
    buttons.set(name, b);
  });

  async function loadCatalogue() {
    try {
      catalogue = (await api("GET", "/offices/" + office + "/procedures")).procedures;
    } catch (e) {
      catalogue = null;  // tried again with the next ticket
    }
    if (ticket) fillProcedures();
  }

  function choose(name) {
    chosen = chosen === name ? null : name;
    drawChoice();
  }

  function drawChoice() {
    for (const [name, b] of buttons) b.setAttribute("aria-pressed", String(name === chosen));
    box.dataset.outcome = chosen || "";
    $("missing-box").hidden = chosen !== "incomplete";
    $("notice-phone-box").hidden = chosen !== "received";  // for "your result is ready"
    if (chosen === "incomplete") fillMissing();
    drawFlag();
  }

  // ------------------------------------------------------------ the procedure
  function fillProcedures() {
    const select = $("outcome-procedure");
    const keep = select.value || (ticket.procedure ? ticket.procedure.code : "");
    select.textContent = "";
    select.append(new Option(W.procedure_none, ""));
    const list = catalogue || (ticket.procedure ? [ticket.procedure] : []);
    const own = document.createElement("optgroup");
    own.label = ticket.service_name;
    const others = document.createElement("optgroup");
    others.label = W.procedure_others;
    for (const p of list) {
      (p.service === ticket.service ? own : others).append(new Option(p.code + " — " + p.name, p.code));
    }
    if (own.children.length) select.append(own);
    if (others.children.length) select.append(others);
    select.value = keep;
    if (select.value !== keep) select.value = "";
    if (chosen === "incomplete") fillMissing();
  }

  function procedureChosen() {
    const code = $("outcome-procedure").value;
    if (!code) return null;
    return (catalogue || []).find((p) => p.code === code) ||
      (ticket.procedure && ticket.procedure.code === code ? ticket.procedure : null);
  }

  // ------------------------------------------------------------ missing documents
  function fillMissing() {
    const list = $("missing-list");
    const ticked = new Set(checkedDocuments());
    list.textContent = "";
    const p = procedureChosen();
    const documents = p ? p.documents : [];
    $("missing-empty").hidden = documents.length > 0;
    for (const name of documents) {
      const label = el("label", "check missing-doc");
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = name;
      input.checked = ticked.has(name);
      label.append(input, el("span", null, name));
      list.append(label);
    }
  }

  const checkedDocuments = () =>
    [...$("missing-list").querySelectorAll("input:checked")].map((i) => i.value);

  function missing() {
    const typed = $("missing-other").value.split(/[;\n]/).map((s) => s.trim()).filter(Boolean);
    return [...new Set([...checkedDocuments(), ...typed])];
  }

  // ------------------------------------------------------------ the receipt code
  let visits = null;        // the last lookup's answer, for the code in `looked`

  async function lookUp() {
    const code = $("dossier-input").value.trim();
    $("dossier-input").value = code;
    if (code === looked) return;
    looked = code;
    visits = null;
    drawFlag();
    if (!code) return;
    try {
      const found = await api("GET", "/offices/" + office + "/dossiers/" + encodeURIComponent(code) + "/visits");
      if (looked === code) visits = found;
    } catch (e) {
      if (looked === code) visits = { error: e.message };
    }
    drawFlag();
  }

  function drawFlag() {
    const flag = $("dossier-flag");
    const v = visits;
    flag.hidden = !v;
    flag.className = "dossier-flag";
    if (!v) return;
    if (v.error) {
      flag.textContent = v.error;
      flag.classList.add("bad");
    } else if (v.incomplete >= 1) {
      let text = fmt(W.dossier_flag, { n: v.incomplete, dates: v.incomplete_days.map(vietDate).join(", ") });
      if (chosen === "incomplete") text += " " + W.dossier_flag_again;
      flag.textContent = text;
      flag.classList.add("alert");
    } else {
      flag.textContent = v.visits ? fmt(W.dossier_seen, { n: v.visits }) : W.dossier_new;
    }
  }

  // ------------------------------------------------------------ keys
  /* A key pressed while the page has the focus and a ticket is at the counter. True: taken
     (the desk does nothing more with it). */
  function key(e) {
    const printable = e.key.length === 1 && e.key !== " ";
    const at = performance.now();
    if (printable) {
      if (burst.length && at - lastKey > BURST_MS) flush();
      burst.push(e.key);
      lastKey = at;
      clearTimeout(burstTimer);
      burstTimer = setTimeout(flush, BURST_MS);
      return true;
    }
    if (e.key === "Enter" && burst.length) {
      const scanned = burst.length >= SCAN_MIN && at - lastKey <= BURST_MS * 3;
      if (scanned) {
        clearTimeout(burstTimer);
        takeCode(burst.join(""));
        burst = [];
        return true;
      }
      flush();  // a person's key, then Enter: both as they were
    }
    return false;
  }

  function flush() {
    clearTimeout(burstTimer);
    const keys = burst;
    burst = [];
    if (keys.length >= SCAN_MIN) { takeCode(keys.join("")); return; }
    keys.forEach((k, i) => {
      if (k.toLowerCase() !== "d") { single(k); return; }
      const field = $("dossier-input");  // D: the code field, and what was typed right after it
      field.focus();
      field.value += keys.slice(i + 1).join("");
      keys.length = 0;
    });
  }

  function single(k) {
    const n = Number(k);
    if (Number.isInteger(n) && n >= 1 && n <= OUTCOMES.length) choose(OUTCOMES[n - 1]);
    else shortcut(k);
  }

  function takeCode(code) {
    $("dossier-input").value = code;
    lookUp();
  }

  $("dossier-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      lookUp();
      $("dossier-input").blur();  // back to the page: C completes
    }
  });
  $("dossier-input").addEventListener("change", lookUp);
  $("outcome-procedure").addEventListener("change", () => { if (chosen === "incomplete") fillMissing(); });
  for (const id of ["outcome-procedure", "missing-other", "notice-phone"]) {
    $(id).addEventListener("keydown", (e) => {
      if (e.key === "Escape" || (e.key === "Enter" && id !== "outcome-procedure")) {
        e.preventDefault();
        e.stopPropagation();
        $(id).blur();
      }
    });
  }
  box.addEventListener("change", (e) => {  // a box ticked with the mouse: the keys go to the page again
    if (e.target.type === "checkbox") e.target.blur();
  });

  // ------------------------------------------------------------ the desk's side
  function reset(cur) {
    ticketId = cur ? cur.id : null;
    ticket = cur;
    chosen = null;
    looked = "";
    visits = null;
    burst = [];
    $("dossier-input").value = cur && cur.dossier ? cur.dossier : "";
    $("missing-other").value = "";
    $("notice-phone").value = "";
    $("missing-list").textContent = "";
    $("outcome-procedure").value = "";
    if (cur) {
      if (catalogue === null) loadCatalogue();
      fillProcedures();
    }
    drawChoice();
  }

  return {
    key,
    /* Drawn with the desk: a new ticket clears what was chosen for the last one. */
    render(cur) {
      box.hidden = !cur;
      if ((cur ? cur.id : null) !== ticketId) reset(cur);
      else if (cur) ticket = cur;
    },
    /* The fields of POST .../complete (and call-next with complete_current). */
    body() {
      if (!ticket) return {};
      const body = {};
      if (chosen) body.outcome = chosen;
      const procedure = $("outcome-procedure").value;
      if (procedure && procedure !== (ticket.procedure ? ticket.procedure.code : "")) body.procedure = procedure;
      const dossier = $("dossier-input").value.trim();
      if (dossier) body.dossier = dossier;
      const phone = $("notice-phone").value.trim();
      if (chosen === "received" && dossier && phone) body.phone = phone;
      if (chosen === "incomplete") {
        const docs = missing();
        if (docs.length) body.missing = docs;
      }
      return body;
    },
    /* What was recorded, for the desk's message after completion. */
    summary() {
      return chosen ? W["outcome_" + chosen] : "";
    },
  };
}

/* 2026-11-23 -> 23/11/2026 */
function vietDate(day) {
  const [y, m, d] = day.split("-");
  return d + "/" + m + "/" + y;
}
