/* Words a person reads, as the server put them in the page (server/infra/messages.toml).

   const t = words(table, {prefix, lang});  t("key", {n: 3})
   A table's entry is a string, or {vi, en} for pages that switch language in place
   (kiosk, rating tablet): `lang` (a string or a function) picks, Vietnamese when the
   other is missing. A missing key reads as itself. `{name}` placeholders are filled
   from the params; unknown ones stay as they are. */

const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

export function fill(text, params) {
  if (!params) return String(text);
  return String(text).replace(/\{(\w+)\}/g, (m, name) => (own(params, name) ? String(params[name]) : m));
}

export function words(table, options = {}) {
  const prefix = options.prefix || "";
  const lang = options.lang;
  function t(key, params) {
    if (!own(table, prefix + key)) return fill(key, params);
    const entry = table[prefix + key];
    if (entry && typeof entry === "object") {
      const l = typeof lang === "function" ? lang() : lang;
      return fill(entry[l] || entry.vi || key, params);
    }
    return fill(entry, params);
  }
  t.has = (key) => own(table, prefix + key);
  return t;
}
