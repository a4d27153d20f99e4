// One request and its answer: a Promise settled by the matching ack or error, or by a timeout.

/** A change the server refused (an `error` frame), or one that got no answer in time. */
export class PushError extends Error {
  /**
   * @param {string} code a contract error code (`conflict`, `not_found`, ...) or a client one
   *   (`timeout`, `queue_full`, `cancelled`, `closed`)
   * @param {string} message
   * @param {string | null} [clientId]
   */
  constructor(code, message, clientId = null) {
    super(message);
    this.name = "PushError";
    this.code = code;
    this.clientId = clientId;
  }
}

let counter = 0;
const session = randomToken(8);

/**
 * A client_id unique across page loads: a random per-page prefix and a counter.
 * Matches the contract's `^[A-Za-z0-9_.:-]{1,64}$`.
 * @param {string} [prefix]
 * @returns {string}
 */
export function newClientId(prefix = "w") {
  counter += 1;
  return `${prefix}.${session}.${counter.toString(36)}`;
}

/** @param {number} length @returns {string} lowercase letters and digits */
export function randomToken(length) {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

/**
 * The pending answer of one request. The ack timer runs only while the frame is out on a live
 * connection: a change waiting offline does not time out, and a connection that drops stops the timer
 * (the change is sent again on the next connection).
 */
export class Push {
  /**
   * @param {string} clientId
   * @param {object} options
   * @param {number} options.timeoutMs
   * @param {(push: Push) => void} options.onTimeout
   * @param {{setTimeout: Function, clearTimeout: Function}} [options.timers]
   */
  constructor(clientId, { timeoutMs, onTimeout, timers = globalThis }) {
    this.clientId = clientId;
    this.settled = false;
    this._timeoutMs = timeoutMs;
    this._onTimeout = onTimeout;
    this._timers = timers;
    this._timer = null;
    /** @type {Promise<object>} resolves with the ack frame, rejects with a PushError */
    this.promise = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
  }

  /** The frame was sent: start waiting for the answer. */
  startTimer() {
    this.stopTimer();
    this._timer = this._timers.setTimeout(() => {
      this._timer = null;
      if (!this.settled) this._onTimeout(this);
    }, this._timeoutMs);
  }

  /** The connection is gone: stop waiting until the frame is sent again. */
  stopTimer() {
    if (this._timer !== null) {
      this._timers.clearTimeout(this._timer);
      this._timer = null;
    }
  }

  /** @param {object} ack the `ack` frame */
  resolve(ack) {
    if (this.settled) return;
    this.settled = true;
    this.stopTimer();
    this._resolve(ack);
  }

  /** @param {PushError} error */
  reject(error) {
    if (this.settled) return;
    this.settled = true;
    this.stopTimer();
    this._reject(error);
  }
}
