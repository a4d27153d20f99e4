// Access tokens, for a server started with NOTESBOARD_AUTH_SECRET (no DOM; node tests drive it).
//
// The token is kept in localStorage under a key per server origin, can arrive once in the address as
// `#token=...` (then it is stripped from the address bar), goes out as `token=` on the socket (BoardSocket's
// `token` option) and as `Authorization: Bearer` on REST calls.
//
// A browser sees a refused WebSocket handshake (401/403) only as a failed connection (close 1006), so
// TokenGate asks REST why: `GET /api/boards/{board}/notes?limit=1` with the token, once when the page starts
// (next to the first connection, not before it) and again while the socket keeps failing. A 401/403 there,
// or a close 1008 about the token (e.g. "token expired"), makes it ask the user (the `ask` callback, a
// dialog in the page). A read-only token makes the board read-only in the view, instead of letting writes
// fail; the role comes from the token's (unverified) claims and from the server refusing a write.

import { State } from "./constants.js";

const TOKEN_KEY = "notesboard.token";
const TOKEN_RE = /^[\x21-\x7e]{1,4096}$/; // printable ASCII, no spaces: a JWT, or an opaque token
const PROBE_TIMEOUT_MS = 10000; // a server that accepts the request but never answers (stopped, overloaded)

/** @param {string} origin e.g. "http://127.0.0.1:8000" @returns {string} the localStorage key */
export function tokenKey(origin) {
  return `${TOKEN_KEY}:${origin}`;
}

/**
 * The token saved for a server, "" when none.
 * @param {string} origin
 * @param {Storage | undefined} [storage]
 */
export function loadToken(origin, storage = globalThis.localStorage) {
  try {
    return cleanToken(storage?.getItem(tokenKey(origin)) ?? "");
  } catch {
    return ""; // storage disabled: the token lives as long as the page
  }
}

/**
 * @param {string} origin
 * @param {string} token "" forgets it
 * @param {Storage | undefined} [storage]
 */
export function saveToken(origin, token, storage = globalThis.localStorage) {
  try {
    if (token) storage?.setItem(tokenKey(origin), token);
    else storage?.removeItem(tokenKey(origin));
  } catch {
    // not remembered; the page still works until it is closed
  }
}

/**
 * A token as pasted: surrounding space, a "Bearer " prefix, line breaks and a whole link with `#token=`
 * are taken off. "" when what is left cannot be a token.
 * @param {unknown} raw
 * @returns {string}
 */
export function cleanToken(raw) {
  let token = String(raw ?? "").trim();
  const inLink = /[#&?]token=([^&#\s]+)/.exec(token);
  if (inLink !== null) token = safeDecode(inLink[1]);
  token = token.replace(/^bearer\s+/i, "").replace(/\s+/g, "");
  return TOKEN_RE.test(token) ? token : "";
}

/**
 * Take `token=` out of the address's fragment (`/b/x#token=...`), once: it is removed from the address
 * bar (history.replaceState), so it is not bookmarked, shared or left in the history by accident.
 * @param {{location: Location, history: History}} [win]
 * @returns {string} the token, "" when the fragment has none
 */
export function takeFragmentToken(win = globalThis) {
  const hash = win.location?.hash ?? "";
  if (!hash.startsWith("#")) return "";
  let token = null;
  const rest = [];
  for (const part of hash.slice(1).split("&")) {
    if (part.startsWith("token=")) token = safeDecode(part.slice("token=".length));
    else if (part !== "") rest.push(part);
  }
  if (token === null) return "";
  const { pathname, search } = win.location;
  try {
    win.history.replaceState(win.history.state, "", `${pathname}${search}${rest.length ? `#${rest.join("&")}` : ""}`);
  } catch {
    // an address that cannot be rewritten (sandboxed frame): the token is still used
  }
  return cleanToken(token);
}

/**
 * What a JWT says about itself, unverified (the server checks the signature; this is only for the view).
 * @param {string} token
 * @returns {{role: "read" | "write" | null, board: string | null, exp: number | null} | null} null when the
 *   token is not a readable JWT
 */
export function tokenClaims(token) {
  const part = String(token ?? "").split(".")[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
    const bytes = Uint8Array.from(globalThis.atob(b64), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    if (claims === null || typeof claims !== "object") return null;
    return {
      role: claims.role === "read" || claims.role === "write" ? claims.role : null,
      board: typeof claims.board === "string" ? claims.board : null,
      exp: Number.isFinite(claims.exp) ? claims.exp : null,
    };
  } catch {
    return null;
  }
}

/** Request headers that carry the token (none without one). @param {string} token */
export function bearer(token) {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * Ask the server whether this token may read a board: `GET /api/boards/{board}/notes?limit=1`.
 * @param {string} board
 * @param {string} token
 * @param {typeof fetch} [fetchFn]
 * @returns {Promise<{ok: boolean, status: number, message: string | null}>} status 0: no answer
 */
export async function probeAccess(board, token, fetchFn = globalThis.fetch) {
  let res;
  try {
    res = await fetchFn(`/api/boards/${encodeURIComponent(board)}/notes?limit=1`, {
      headers: { accept: "application/json", ...bearer(token) },
      cache: "no-store",
      signal: globalThis.AbortSignal?.timeout?.(PROBE_TIMEOUT_MS),
    });
  } catch (err) {
    return { ok: false, status: 0, message: err?.message ?? "network error" };
  }
  if (res.ok) return { ok: true, status: res.status, message: null };
  let message = null;
  try {
    const body = await res.json();
    if (typeof body?.error?.message === "string") message = body.error.message;
  } catch {
    // not the contract's error body (a proxy's page): the status alone must do
  }
  return { ok: false, status: res.status, message };
}

/** Does this answer mean "a (better) token is needed"? @param {{status: number}} result */
export function needsToken(result) {
  return result.status === 401 || result.status === 403;
}

/**
 * Words for the token dialog from a refusal (a probe's answer, or a close reason).
 * @param {{status: number | null, message: string | null} | null} problem null: the user asked to change it
 * @param {string} [board]
 * @returns {{reason: string, detail: string}}
 */
export function describeProblem(problem, board = "") {
  const message = problem?.message ?? "";
  const detail = message ? `The server said: ${message}` : "";
  if (problem === null || (!problem.status && !message)) {
    return { reason: "Enter an access token for this server.", detail };
  }
  if (/expired/i.test(message)) {
    return { reason: "Your access token has expired. Enter a new one to keep working.", detail };
  }
  if (problem.status === 403 || /does not grant/i.test(message)) {
    const which = board ? `the board “${board}”` : "this board";
    return { reason: `Your access token does not open ${which}. Enter a token made for it.`, detail };
  }
  if (/invalid/i.test(message)) {
    return { reason: "The server did not accept the access token. Check that it was copied whole.", detail };
  }
  return { reason: "This server needs an access token to show its boards.", detail };
}

/**
 * The page's token: asks for one when the server refuses, tells the view whether the board is read-only.
 *
 * State for the view (subscribe): `token`, `readOnly`, `required` (the server wants tokens, or one is
 * saved), `needed` (the refusal while no working token is known, else null).
 */
export class TokenGate {
  /**
   * @param {object} options
   * @param {string} options.token the saved token ("" for none)
   * @param {(token: string) => Promise<{ok: boolean, status: number, message: string | null}>} options.probe
   * @param {(problem: {status: number | null, message: string | null} | null) => Promise<string | null>} options.ask
   *   shows the dialog; resolves with the token entered, or null when the user declines
   * @param {(token: string) => void} [options.save] keeps a token the user gave
   */
  constructor({ token, probe, ask, save = () => {} }) {
    this.token = cleanToken(token);
    this.claims = tokenClaims(this.token);
    /** @type {boolean | null} whether the server wants tokens; null: not known yet */
    this.authOn = null;
    /** @type {{status: number | null, message: string | null} | null} */
    this.needed = null;
    this._refusedWrite = false; // the server refused a write with this token
    this._probe = probe;
    this._ask = ask;
    this._save = save;
    this._socket = null;
    this._checking = null; // {token, promise} of the probe in flight
    this._asking = false;
    this._declined = false; // "Not now": failures no longer open the dialog by themselves
    this._probedAttempt = 0;
    this._refusalSeen = false;
    this._listeners = new Set();
  }

  /** Writes are refused (read-only token), unless the server turned out not to need tokens at all. */
  get readOnly() {
    return this._refusedWrite || (this.claims?.role === "read" && this.authOn !== false);
  }

  /** Whether the page should offer a way to enter a token. */
  get required() {
    return this.authOn === true || (this.token !== "" && this.authOn !== false);
  }

  /** @param {(gate: TokenGate) => void} fn @returns {() => void} unsubscribe */
  subscribe(fn) {
    this._listeners.add(fn);
    return () => this._listeners.delete(fn);
  }

  /**
   * Follow a BoardSocket: its refusals and repeated failures lead to a probe or to the dialog.
   * @param {import("./socket.js").BoardSocket} socket
   */
  attach(socket) {
    this._socket = socket;
    socket.on("status", (status) => this._status(status));
  }

  /**
   * Ask the server whether the current token works (the startup probe, and after failures). Probes with a
   * token that was replaced meanwhile are ignored.
   * @returns {Promise<void>}
   */
  check() {
    if (this._checking?.token === this.token) return this._checking.promise;
    const token = this.token;
    const promise = this._check(token).finally(() => {
      if (this._checking?.promise === promise) this._checking = null;
    });
    this._checking = { token, promise };
    return promise;
  }

  /** The user asked to enter another token (a button in the page); the dialog says why one is needed, if it is. */
  change() {
    return this._request(this.needed, true);
  }

  /**
   * Use a token: saved, sent on the socket (which reconnects with it), checked once.
   * @param {string} raw
   * @returns {boolean} whether it looked like a token
   */
  use(raw) {
    const token = cleanToken(raw);
    if (!token) return false;
    this.token = token;
    this.claims = tokenClaims(token);
    this._refusedWrite = false;
    this._declined = false;
    this._probedAttempt = 0;
    this.needed = null;
    this._save(token);
    this._socket?.setToken(token);
    this._emit();
    this.check();
    return true;
  }

  /**
   * A write came back refused. `forbidden` on a live socket means a read-only token.
   * @param {{code?: string}} err
   */
  writeRefused(err) {
    if (err?.code !== "forbidden" || this._refusedWrite) return;
    this._refusedWrite = true;
    this.authOn = true;
    this._emit();
  }

  /** @private */
  async _check(token) {
    const result = await this._probe(token);
    if (token !== this.token) return;
    if (needsToken(result)) {
      this.authOn = true;
      await this._request({ status: result.status, message: result.message }, false);
      return;
    }
    if (!result.ok) return; // unreachable, or another problem the socket's status already shows
    if (!token) {
      this.authOn = false;
    } else if (this.claims?.role === "read" && this.authOn === null) {
      // A read-only token means a read-only board only where tokens are needed at all.
      const open = await this._probe("");
      if (token === this.token && open.status !== 0) this.authOn = !open.ok;
    }
    if (token === this.token) {
      this.needed = null;
      this._emit();
    }
  }

  /** @private */
  _status(status) {
    if (status.refused) {
      if (this._refusalSeen) return;
      this._refusalSeen = true;
      if (/token/i.test(status.reason ?? "")) {
        this.authOn = true;
        this._request({ status: 401, message: status.reason }, true);
      } else {
        this.check();
      }
      return;
    }
    this._refusalSeen = false;
    if (status.state === State.CONNECTED) {
      this._probedAttempt = 0;
      if (this.needed !== null) {
        this.needed = null;
        this._emit();
      }
      return;
    }
    // Still failing after a retry: find out whether the token is the reason (once per attempt).
    if (status.attempt >= 2 && status.attempt !== this._probedAttempt && !this._asking) {
      this._probedAttempt = status.attempt;
      this.check();
    }
  }

  /** @private */
  async _request(problem, force) {
    if (problem !== null) this.needed = problem;
    this._emit();
    if (this._asking || (this._declined && !force)) return;
    this._asking = true;
    let answer = null;
    try {
      answer = await this._ask(problem);
    } finally {
      this._asking = false;
    }
    if (answer && this.use(answer)) return;
    if (problem !== null) this._declined = true;
    this._emit();
  }

  /** @private */
  _emit() {
    for (const fn of this._listeners) {
      try {
        fn(this);
      } catch (err) {
        console.error("notesboard: a token listener failed", err);
      }
    }
  }
}

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
