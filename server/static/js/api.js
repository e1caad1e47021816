/* The JSON API as every page calls it: one fetch wrapper, one error type.

   const api = client({token, lang, csrf, ...});
   api.call(method, path, body, headers)     the reply's JSON (null when empty); any
                                             answer but 2xx throws an ApiError
   api.request(method, path, body, headers)  {status, ok, data, text, headers} whatever
                                             the status, for pages that branch on it (text:
                                             the body as it came, for a chart's SVG)
   Both reject with an ApiError whose `offline` is true when no answer came at all
   (network down, timeout). The server's errors are {"error": code, "message": words,
   ...more}: `code`, `message` and `data` of the ApiError; `retryAfter` from the header
   of a 429 or 503. Devices send their token as a bearer (and no cookie, no referrer);
   officers' pages send the session cookie and, on a change, the form's CSRF token. */

export class ApiError extends Error {
  constructor(message, { status = 0, code = "network", data = null, retryAfter = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;        // 0: no answer
    this.code = code;
    this.data = data;
    this.retryAfter = retryAfter;  // seconds, or null
  }

  get offline() { return this.status === 0; }
}

const value = (v) => (typeof v === "function" ? v() : v);

/* Options (each may be a function read at every call, as a page's language changes):
   base ("/api/v1"), token (a device's bearer token: no cookie, no referrer), csrf (sent
   with every change), lang (Accept-Language), timeout (ms), headers (more, on every call),
   onResponse(response) (a page that reads the Date header), onUnauthorized(reply) (a 401:
   the session ended), failed (the message of an error without one), network (the message
   when no answer came). */
export function client(options = {}) {
  const base = options.base === undefined ? "/api/v1" : options.base;

  async function request(method, path, body, extra) {
    const token = value(options.token), csrf = value(options.csrf), lang = value(options.lang);
    const headers = { Accept: "application/json", ...value(options.headers) };
    if (lang) headers["Accept-Language"] = lang;
    if (token) headers.Authorization = "Bearer " + token;
    if (csrf && method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    Object.assign(headers, extra || {});
    const init = { method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body),
                   credentials: token ? "omit" : "same-origin" };
    if (token) init.referrerPolicy = "no-referrer";
    let timer = null;
    if (options.timeout) {
      const ctl = new AbortController();
      init.signal = ctl.signal;
      timer = setTimeout(() => ctl.abort(), options.timeout);
    }
    let r;
    try {
      r = await fetch(base + path, init);
    } catch (e) {
      throw new ApiError(value(options.network) || "network");
    } finally {
      clearTimeout(timer);
    }
    if (options.onResponse) options.onResponse(r);
    const text = await r.text().catch(() => "");
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    const reply = { status: r.status, ok: r.ok, data, text, headers: r.headers };
    if (r.status === 401 && options.onUnauthorized) options.onUnauthorized(reply);
    return reply;
  }

  async function call(method, path, body, extra) {
    const reply = await request(method, path, body, extra);
    if (reply.ok) return reply.data;
    throw errorOf(reply, value(options.failed));
  }

  return { request, call };
}

/* The ApiError of a reply that is not 2xx. */
export function errorOf(reply, failed) {
  const data = reply.data && typeof reply.data === "object" ? reply.data : {};
  const after = reply.headers && Number(reply.headers.get("Retry-After"));
  return new ApiError(data.message || failed || "HTTP " + reply.status, {
    status: reply.status, code: data.error || "http_" + reply.status, data,
    retryAfter: after > 0 ? after : null,
  });
}
