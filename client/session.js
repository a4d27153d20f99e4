// The board session (issue #23) as this page knows it: the latest state heard from the snapshot, `session`
// frames or REST answers (never an older version), listeners told of each, and changes as PUTs of the whole
// session with the version last heard; a 409 (someone else changed it meanwhile) reads it again and tries
// once more. The server's clock offset comes from the HTTP Date header of these requests (the timer uses it).

import { boardPath, requestJSON } from "./rest.js";

export class BoardSession {
  /**
   * @param {object} deps
   * @param {string} deps.board
   * @param {() => string} deps.token
   */
  constructor({ board, token }) {
    this.path = `${boardPath(board)}/session`;
    this.token = token;
    /** @type {any} the board's session as last heard, null until then */
    this.session = null;
    this.offset = 0; // server clock minus this page's clock, ms
    /** @type {((session: any) => void)[]} */
    this._listeners = [];
  }

  /** @param {(session: any) => void} fn told each newer session */
  subscribe(fn) {
    this._listeners.push(fn);
  }

  /** A session from a snapshot (absent: the board has none), a `session` frame or an answer. */
  heard(session) {
    if (session === undefined || session === null) return;
    if (this.session !== null && session.version < this.session.version) return;
    this.session = session;
    for (const fn of this._listeners) fn(session);
  }

  now() {
    return Date.now() + this.offset;
  }

  /**
   * PUT the session that `next` makes of the current one; on a 409 read it again and try once more.
   * @param {(current: any) => object} next the fields to change (vote, writing, timer)
   * @returns {Promise<void>} rejects with the RestError of a refusal (403: not a facilitator)
   */
  async change(next) {
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.session === null || attempt > 0) this.heard(await this._request("GET"));
        const current = this.session;
        const body = { vote: current.vote, writing: current.writing, timer: current.timer, ...next(current), version: current.version };
        this.heard(await this._request("PUT", body));
        return;
      } catch (err) {
        if (err.status === 409 && attempt === 0) continue;
        throw err;
      }
    }
  }

  /** @private */
  async _request(method, body) {
    const sent = Date.now();
    const { data, res } = await requestJSON(method, this.path, this.token(), { body });
    const date = Date.parse(res.headers.get("date") ?? "");
    if (Number.isFinite(date)) this.offset = date + 500 - (sent + Date.now()) / 2; // Date has whole seconds
    return data;
  }
}
