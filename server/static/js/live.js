/* The live office: one Socket.IO connection per page and the realtime protocol's rule in
   one place (server/realtime/hub.py; docs: "Events after commit").

   The server sends the office's snapshot ("board") on every (re)connect, then events,
   each with the office's `seq`. Here an event at or below the last seq is old and
   dropped; one that skips a seq means something was missed, so the snapshot is asked
   for again ("board" with an ack) and the events that arrive meanwhile are held, then
   those that follow on from the snapshot are delivered in order. Events without a seq
   (a device's or a counter's own news) are delivered as they come. Pages that do not
   follow the office's sequence (the citizen's status page: one ticket's room) pass
   `sequenced: false` and get every event as it comes.

   const live = connect({auth, onSnapshot(board), onStatus(online, err), retry(err), ...});
   live.on(name, fn(ev))      in order; fn runs once per event
   live.peek(name, fn(ev, fresh))  every arrival, before the order rule: what must not
                              wait for (or be lost to) a snapshot, such as announcing a call;
                              `fresh`: newer than what is shown and not already held
   live.onAny(fn(name, ev))   after the order rule, every event
   live.requestSnapshot()     read the snapshot again (an office change, a safety timer)
   live.receive(name, ev)     what the socket does with an event (tests use it)
   live.state                 {lastSeq, pending, boardRequests, boards}
   Socket.IO does not retry a refused connection by itself: `retry(err)` says after how
   many ms to try again (by default only while the server's database is down). */

const RETRY_DB_MS = 5000;
const ANSWER_MS = 5000;        // a snapshot asked for and not answered: ask again
const ASK_AGAIN_MS = 2000;

function defaultRetry(err) {
  return err && err.message === "database_unavailable" ? RETRY_DB_MS : null;
}

export function connect(options = {}) {
  const sequenced = options.sequenced !== false;
  const snapshotName = options.snapshot || "board";
  const handlers = {}, peeks = {}, anys = [];
  const state = { lastSeq: -1, pending: null, boardRequests: 0, boards: 0 };
  const retry = options.retry || defaultRetry;
  const socket = typeof window.io === "function"
    ? window.io({ transports: ["websocket"], auth: options.auth, ...options.socket }) : null;

  function deliver(name, ev) {
    (handlers[name] || []).forEach((fn) => fn(ev));
    anys.forEach((fn) => fn(name, ev));
  }

  function setSnapshot(board) {
    if (!board || typeof board.seq !== "number") return;
    state.boards += 1;
    state.lastSeq = board.seq;
    const pending = state.pending || [];
    state.pending = null;
    if (options.onSnapshot) options.onSnapshot(board);
    // Events that came while the snapshot was on its way: those after it, if they follow on.
    pending.sort((a, b) => a.ev.seq - b.ev.seq).forEach((p) => {
      if (p.ev.seq === state.lastSeq + 1) { state.lastSeq = p.ev.seq; deliver(p.name, p.ev); }
    });
  }

  function requestSnapshot() {
    if (!socket || state.pending) return;  // one request at a time
    const mine = state.pending = [];
    state.boardRequests += 1;
    let done = false;
    const finish = (board) => {
      if (done) return;
      done = true;
      if (state.pending !== mine) {  // a reconnect's snapshot came meanwhile: take this one only if newer
        if (board && board.seq > state.lastSeq) setSnapshot(board);
      } else if (board) {
        setSnapshot(board);
      } else {
        state.pending = null;
        setTimeout(() => { if (socket.connected) requestSnapshot(); }, ASK_AGAIN_MS);
      }
    };
    socket.emit(snapshotName, finish);
    setTimeout(() => finish(null), ANSWER_MS);  // no answer (the server went away)
  }

  function receive(name, ev) {
    if (!sequenced || !ev || typeof ev.seq !== "number" || ev.seq <= 0) { deliver(name, ev); return; }
    const held = state.pending && state.pending.some((p) => p.ev.seq === ev.seq);
    (peeks[name] || []).forEach((fn) => fn(ev, ev.seq > state.lastSeq && !held));
    if (state.pending) { state.pending.push({ name, ev }); return; }
    if (ev.seq <= state.lastSeq) return;
    if (state.lastSeq < 0 || ev.seq > state.lastSeq + 1) {
      requestSnapshot();
      if (state.pending) state.pending.push({ name, ev });
      return;
    }
    state.lastSeq = ev.seq;
    deliver(name, ev);
  }

  function status(online, err) {
    if (options.onStatus) options.onStatus(online, err || null);
  }

  if (socket) {
    socket.on("connect", () => status(true));
    socket.on("disconnect", (reason) => {
      state.pending = null;
      status(false);
      if (reason === "io server disconnect" && options.rejoinMs) setTimeout(() => socket.connect(), options.rejoinMs);
    });
    socket.on("connect_error", (err) => {
      status(false, err);
      const ms = socket.active ? null : retry(err);
      if (ms) setTimeout(() => socket.connect(), ms);
    });
    if (sequenced) socket.on(snapshotName, setSnapshot);
    socket.onAny((name, ev) => { if (!(sequenced && name === snapshotName)) receive(name, ev); });
  }

  return {
    socket, state, receive, requestSnapshot,
    get connected() { return !!(socket && socket.connected); },
    on(name, fn) { (handlers[name] = handlers[name] || []).push(fn); return this; },
    peek(name, fn) { (peeks[name] = peeks[name] || []).push(fn); return this; },
    onAny(fn) { anys.push(fn); return this; },
    reconnect() { if (socket) { socket.disconnect(); socket.connect(); } },
    close() { if (socket) socket.disconnect(); },
  };
}
