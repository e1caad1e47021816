/* Small element helpers every page uses. */

export const $ = (id) => document.getElementById(id);

/* <tag class=cls>text</tag>; text null or undefined: no text. */
export function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

export function button(text, cls, onclick, label) {
  const b = el("button", cls, text);
  b.type = "button";
  if (label) b.setAttribute("aria-label", label);
  if (onclick) b.addEventListener("click", onclick);
  return b;
}

export function show(node, on) { if (node) node.hidden = !on; }

/* Plays a CSS animation class again from its start. */
export function restart(node, cls) {
  if (!node) return;
  node.classList.remove(cls);
  void node.offsetWidth;
  node.classList.add(cls);
}

/* The JSON a template put in <script type="application/json" id=...>. */
export function readJson(id) { return JSON.parse($(id).textContent); }
