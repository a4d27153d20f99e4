// The request queue: every change not yet acknowledged, in the order it was made (pure, no I/O).
//
// A change stays here from push() until its ack or error. While offline it waits unsent; on every new
// connection all of them are (re)sent in order with their original client_id, so a create that was
// committed just before the connection dropped is answered with the replayed ack instead of making a
// second note.

export class QueueFullError extends Error {
  constructor(max) {
    super(`more than ${max} changes are waiting to be sent`);
    this.name = "QueueFullError";
    this.code = "queue_full";
  }
}

/**
 * @typedef {object} QueueEntry
 * @property {string} clientId the frame's client_id, the key of the entry
 * @property {object} frame the client frame (sent as JSON)
 * @property {boolean} sent sent on the current connection
 * @property {boolean} everSent sent on some connection: the server may have committed it
 * @property {import("./push.js").Push} [push] the socket's promise handles for the change (`add`'s extra)
 */

export class RequestQueue {
  /** @param {{max?: number}} [options] */
  constructor({ max = 500 } = {}) {
    this.max = max;
    /** @type {Map<string, QueueEntry>} insertion-ordered */
    this._entries = new Map();
  }

  /** Number of changes waiting for an ack. */
  get size() {
    return this._entries.size;
  }

  /**
   * Add a change; it is unsent until markSent().
   * @param {string} clientId
   * @param {object} frame
   * @param {object} [extra] fields merged into the entry (the socket keeps its promise handles there)
   * @returns {QueueEntry}
   * @throws {QueueFullError} when `max` changes are already waiting
   * @throws {Error} when the client_id is already queued
   */
  add(clientId, frame, extra = {}) {
    if (this._entries.has(clientId)) throw new Error(`client_id ${clientId} is already queued`);
    if (this._entries.size >= this.max) throw new QueueFullError(this.max);
    const entry = { ...extra, clientId, frame, sent: false, everSent: false };
    this._entries.set(clientId, entry);
    return entry;
  }

  /** @param {string} clientId @returns {QueueEntry | undefined} */
  get(clientId) {
    return this._entries.get(clientId);
  }

  /**
   * Remove and return an entry (on its ack or error).
   * @param {string} clientId
   * @returns {QueueEntry | undefined}
   */
  take(clientId) {
    const entry = this._entries.get(clientId);
    if (entry !== undefined) this._entries.delete(clientId);
    return entry;
  }

  /**
   * Merge fields into a frame that was never sent (e.g. a note edited while its create waits offline).
   * A frame that went out once may already be committed, so it is left alone.
   * @param {string} clientId
   * @param {object} fields
   * @returns {boolean} whether the frame was changed
   */
  amend(clientId, fields) {
    const entry = this._entries.get(clientId);
    if (entry === undefined || entry.everSent) return false;
    entry.frame = { ...entry.frame, ...fields };
    return true;
  }

  /** Mark an entry as sent on the current connection. @param {string} clientId */
  markSent(clientId) {
    const entry = this._entries.get(clientId);
    if (entry !== undefined) {
      entry.sent = true;
      entry.everSent = true;
    }
  }

  /** The connection is gone: everything waiting must be sent again on the next one. */
  connectionLost() {
    for (const entry of this._entries.values()) entry.sent = false;
  }

  /** Entries to send on the current connection, oldest first. @returns {QueueEntry[]} */
  unsent() {
    return [...this._entries.values()].filter((e) => !e.sent);
  }

  /** All waiting entries, oldest first. @returns {QueueEntry[]} */
  values() {
    return [...this._entries.values()];
  }
}
