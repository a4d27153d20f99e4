// Every state name, close code and default of the client in one place (phoenix's constants.js habit).

/** Connection states reported by BoardSocket's "status" event. */
export const State = Object.freeze({
  CONNECTING: "connecting", // first connection attempt, nothing received yet
  CONNECTED: "connected", // snapshot received: live
  RECONNECTING: "reconnecting", // lost the connection, retrying with backoff
  OFFLINE: "offline", // the browser is offline, retries keep failing, or the server refused us for good
  CLOSED: "closed", // closed by the page; no more retries
});

/** WebSocket close codes of the wire contract (protocol-v1, "Close codes"). */
export const Close = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001, // server shutting down: reconnect
  POLICY: 1008, // bad board, bad token, abuse: do not hammer the server
  TOO_BIG: 1009,
  TRY_AGAIN: 1013, // too slow to read: reconnect with since
  // Application codes (4000-4999) the client uses when it drops a connection itself.
  CLIENT_RESUME: 4000, // seq gap, dead connection or a name change: resume at once
});

/** Defaults of BoardSocket; each can be overridden through its options. */
export const DEFAULTS = Object.freeze({
  pingIntervalMs: 15000, // application ping while connected
  pingTimeoutMs: 8000, // no pong within this: the connection is dead
  connectTimeoutMs: 10000, // no snapshot within this after starting to connect: try again
  ackTimeoutMs: 10000, // a sent change without ack/error within this: push() rejects with "timeout"
  maxQueue: 500, // changes kept while offline; more are refused ("queue_full")
  limit: 0, // `limit=` for fresh snapshots (0: not sent, the server's snapshot_limit); the page asks 10000
  offlineAfterAttempts: 5, // failed reconnects before the status says "offline" (retries continue)
  backoff: Object.freeze({ baseMs: 250, factor: 2, maxMs: 8000 }),
});

/** The palette offered for notes; any #rrggbb from the server is still shown as given. */
export const PALETTE = Object.freeze([
  { name: "Yellow", color: "#fde68a" },
  { name: "Orange", color: "#fdba74" },
  { name: "Pink", color: "#f9a8d4" },
  { name: "Purple", color: "#c4b5fd" },
  { name: "Blue", color: "#93c5fd" },
  { name: "Green", color: "#86efac" },
  { name: "Gray", color: "#e5e7eb" },
]);

// A note's patterns and limits: generated from the server's description of a note (contract.js).
export { BOARD_RE, CLIENT_ID_RE, COLOR_RE, MAX_NAME, MAX_TEXT } from "./contract.js";
export const SNAPSHOT_LIMIT = 10000; // the page asks for whole boards up to this many notes (`limit=`)
