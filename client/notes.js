// NoteStore: the board's notes as this page sees them (no DOM, no sockets; node tests drive it).
//
// Each note is an Entry holding the latest committed state from the server plus this page's own changes
// that are not acknowledged yet, so the view can show a change at once and fall back to the server's
// version if it is refused. Changes to one note go out one at a time: the next waits for the ack of the
// previous (and is merged with anything else made meanwhile), so each update carries the version it was
// based on and a `conflict` really means someone else changed the note.
//
// Server input: applySnapshot(), applyEvent(). User input: createDraft(), beginEdit()/finishEdit(),
// move(), setColor(), setFields(), remove(), resolveConflict(), and for undo/redo restore() (an update of
// a tombstone with `deleted: false`). Output: subscribe(fn) gets
//   {type: "upsert" | "remove", entry}, {type: "synced"} after each snapshot,
//   {type: "message", code, ...facts} (worded by messages.js: the store writes no user-facing text), and
//   {type: "local", step} for every change this page makes (what undo needs: before and after values),
//   and {type: "acked", entry} when our delete of a note already removed (its event came first) is answered.
//
// Every ack of our own change leaves its version in `entry.ownVersion` (and a delete's in `tombstones`),
// so an undo is sent based on the version our change produced: if someone else changed the note since,
// the server answers `conflict` and the usual conflict view shows; nothing is overwritten silently.

import { DEFAULT_H, DEFAULT_W } from "./contract.js";
import { newClientId } from "./push.js";

const FIELDS = ["text", "color", "x", "y", "w", "h", "z"];
/** Size and stacking of notes that never had them (older servers, older rows). */
export const NOTE_DEFAULTS = Object.freeze({ w: DEFAULT_W, h: DEFAULT_H, z: 0 });

/** One note on the page: a server note, a create on its way, or a draft not sent yet. */
export class Entry {
  /** @param {string} key a page-local key, stable for the life of the note (also after its create is acked) */
  constructor(key) {
    this.key = key;
    /** @type {number | null} */
    this.id = null;
    /** @type {object | null} the latest committed note we know of */
    this.server = null;
    /** @type {object | null} fields of a draft or of a create waiting for its ack */
    this.createFields = null;
    this.draft = false; // opened for typing, nothing sent yet
    /** @type {string | null} client_id of the create waiting for its ack */
    this.creating = null;
    /** @type {{fields: object, version: number | null, cid: string, del: boolean} | null} sent, not answered */
    this.inflight = null;
    /** @type {{fields: object, version: number | null, del: boolean} | null} waits for `inflight` */
    this.waiting = null;
    this.deleting = false;
    /** @type {{base: number | null, startText: string, shared: boolean} | null} the open editor's start */
    this.editing = null;
    /** @type {{code: string, mine: string | null} | null} a refused change the user must be told about (messages.js words it) */
    this.conflict = null;
    this.removed = false;
    /** @type {number | null} the version our latest acknowledged change produced */
    this.ownVersion = null;
    /** @type {string | null} the text a shared edit ended with, until the server's version of it arrives */
    this.sharedText = null;
  }

  /**
   * Where the note is in its life on this page, read from the fields above (which stay the source: the
   * store moves them one at a time). In order of precedence:
   * - "removed": gone from the board (deleted, refused, or a draft dropped); nothing more happens to it;
   * - "draft": opened for typing, nothing sent yet;
   * - "creating": its create was sent and waits for the ack;
   * - "deleting": our delete was sent and waits for the ack;
   * - "saving": a change was sent (and maybe another waits behind it) without an ack yet;
   * - "synced": the server's version is all there is.
   * A refused change (`conflict`) and an open editor (`editing`) are shown beside any of these.
   * @returns {"removed" | "draft" | "creating" | "deleting" | "saving" | "synced"}
   */
  get phase() {
    if (this.removed) return "removed";
    if (this.draft) return "draft";
    if (this.creating !== null) return "creating";
    if (this.deleting) return "deleting";
    if (this.inflight !== null || this.waiting !== null) return "saving";
    return "synced";
  }

  /** A change of ours (create, update or delete) is sent or queued and not acknowledged yet. */
  get awaitingAck() {
    return this.creating !== null || this.inflight !== null || this.waiting !== null;
  }

  /**
   * What to show: the server's note with this page's unacknowledged changes on top.
   * @returns {{id: number|null, text: string, color: string|null, x: number|null, y: number|null,
   *   w: number, h: number, z: number, author: string|null, updated_by: string|null,
   *   updated_at: string|null, version: number|null, pending: boolean, hidden: boolean, kind: string,
   *   privacy: "hidden" | "private" | null}}
   */
  view() {
    const base = this.server ?? this.createFields ?? {};
    const view = {
      id: this.id,
      text: base.text ?? "",
      color: base.color ?? null,
      x: base.x ?? null,
      y: base.y ?? null,
      w: base.w ?? NOTE_DEFAULTS.w,
      h: base.h ?? NOTE_DEFAULTS.h,
      z: base.z ?? NOTE_DEFAULTS.z,
      author: base.author ?? null,
      updated_by: base.updated_by ?? base.author ?? null,
      updated_at: base.updated_at ?? null,
      version: this.server?.version ?? null,
      pending: false,
      hidden: false,
      kind: base.kind ?? "note", // "section": a titled area grouping the notes inside it (issue #23)
      // Written while the board's writing is private (issue #23): "hidden", someone else's (its text is empty
      // until the reveal); "private", this browser's own (nobody else sees its text yet); null: everyone's.
      privacy: /** @type {"hidden" | "private" | null} */ (base.hidden === true ? "hidden" : base.private === true ? "private" : null),
    };
    for (const part of [this.inflight, this.waiting]) {
      if (part !== null) Object.assign(view, part.fields);
    }
    view.pending = !this.draft && this.awaitingAck;
    view.hidden = this.deleting;
    return view;
  }

  /** While editing: has someone else changed the text since the editor opened? */
  changedWhileEditing() {
    if (this.editing === null || this.server === null || this.editing.shared) return false;
    const ownText = this.inflight?.fields.text !== undefined || this.waiting?.fields.text !== undefined;
    return !ownText && this.server.text !== this.editing.startText;
  }
}

export class NoteStore {
  /**
   * @param {{push: (frame: object) => Promise<object>, amend: (cid: string, fields: object) => boolean,
   *   cancel: (cid: string) => boolean}} transport a BoardSocket, or a fake in tests
   */
  constructor(transport) {
    this.transport = transport;
    /** @type {Map<string, Entry>} in the order notes appeared (the view stacks them in this order) */
    this.entries = new Map();
    /** @type {Map<number, Entry>} */
    this.byId = new Map();
    /** the display name shown as author of this page's drafts */
    this.author = null;
    /** @type {Map<number, number>} note id -> version of the tombstone our own delete left (for undo) */
    this.tombstones = new Map();
    /** @type {Set<Entry>} entries whose create is on its way (sent or queued), waiting for the answer */
    this._creating = new Set();
    /** @type {object[] | null} the steps recorded inside group(), while it runs */
    this._group = null;
    /** @type {Set<number>} ids whose delete this page sent and the server has not answered yet */
    this.deletesInFlight = new Set();
    /**
     * @type {Map<number, object>} note id -> latest copy (tombstones too) of a note this page has not shown
     * yet because it may be the echo of one of its own creates: the server sends the event and the ack in
     * either order, and showing the event first would draw the note twice until the ack merges them.
     */
    this._held = new Map();
    this._listeners = new Set();
    this._keys = 0;
  }

  /**
   * @param {(change: object) => void} fn
   * @returns {() => void} unsubscribe
   */
  subscribe(fn) {
    this._listeners.add(fn);
    return () => this._listeners.delete(fn);
  }

  /** Live entries, in stacking order. @returns {Entry[]} */
  list() {
    return [...this.entries.values()];
  }

  // -- server input ---------------------------------------------------------------------------------------

  /**
   * A snapshot frame. `full` (no since, or reset): its notes replace every server note we hold;
   * otherwise they are the changes since our last seq, tombstones included, applied in order.
   * Drafts and creates waiting for their ack are kept either way.
   * @param {{notes: object[], full: boolean}} snapshot
   */
  applySnapshot(snapshot) {
    if (snapshot.full) {
      const live = new Set(snapshot.notes.filter((n) => !n.deleted).map((n) => n.id));
      for (const entry of [...this.byId.values()]) {
        if (!live.has(entry.id)) this._remove(entry, "gone");
      }
      for (const id of [...this._held.keys()]) if (!live.has(id)) this._held.delete(id);
    }
    // After a reset (new epoch) seqs may start over, so a full snapshot wins regardless of seq.
    for (const note of snapshot.notes) this._applyNote(note, snapshot.full);
    this._emit({ type: "synced" });
  }

  /** An `event` frame: created, updated or deleted; an unknown id is an upsert. @param {{note: object}} event */
  applyEvent(event) {
    this._applyNote(event.note, false);
  }

  /** @private */
  _applyNote(note, force) {
    let entry = this.byId.get(note.id);
    if (entry === undefined && this._hold(note, force)) return;
    // The ack and the event of one change carry the same note: whichever comes second is stale.
    if (entry !== undefined && !force && entry.server !== null && note.seq <= entry.server.seq) return;
    // A full snapshot repeats the notes that did not change (a resync, a replay's jump): nothing to redraw.
    if (entry !== undefined && force && sameChange(entry.server, note) && entry.sharedText === null) return;
    if (note.deleted) {
      if (entry !== undefined) this._remove(entry, "deleted");
      return;
    }
    if (entry === undefined) {
      entry = new Entry(this._key());
      entry.id = note.id;
      this.entries.set(entry.key, entry);
      this.byId.set(note.id, entry);
    }
    entry.server = note;
    if (entry.sharedText !== null && note.text === entry.sharedText) {
      entry.ownVersion = note.version; // our typing's last keystrokes are in this version (finishSharedEdit)
      entry.sharedText = null;
    }
    this._changed(entry);
  }

  /**
   * Keep back a note we do not show yet that may be our own create's echo (same text as a create waiting
   * for its ack), or a newer copy of one already kept back. @private
   * @returns {boolean} whether the note was kept back
   */
  _hold(note, force) {
    const held = this._held.get(note.id);
    if (held !== undefined) {
      if (force || note.seq > held.seq) this._held.set(note.id, note);
      return true;
    }
    if (note.deleted || !this._mayBeOwn(note)) return false;
    this._held.set(note.id, note);
    return true;
  }

  /** @private */
  _mayBeOwn(note) {
    for (const entry of this._creating) if (entry.createFields?.text === note.text) return true;
    return false;
  }

  /** A create was answered: show the kept-back notes that no other waiting create may claim. @private */
  _release() {
    for (const [id, note] of [...this._held]) {
      if (this._mayBeOwn(note)) continue;
      this._held.delete(id);
      if (!note.deleted) this._applyNote(note, false);
    }
  }

  // -- user input -----------------------------------------------------------------------------------------

  /**
   * A new note open for typing; nothing is sent until finishEdit() with some text.
   * @param {{x: number, y: number, color?: string | null, kind?: string, w?: number, h?: number}} at
   *   kind "section": a section, its title typed (w, h: its size)
   * @returns {Entry}
   */
  createDraft({ x, y, color = null, kind = "note", w = undefined, h = undefined }) {
    const entry = new Entry(this._key());
    entry.draft = true;
    entry.createFields = { text: "", color, x, y, author: this.author, kind, w, h };
    entry.editing = { base: null, startText: "", shared: false };
    this.entries.set(entry.key, entry);
    this._changed(entry);
    return entry;
  }

  /** The text editor opened on a note. @param {Entry} entry */
  /** @param {Entry} entry @param {{shared?: boolean}} [options] shared: typed together (textsync.js) */
  beginEdit(entry, { shared = false } = {}) {
    if (entry.editing !== null) return;
    entry.editing = { base: entry.server?.version ?? null, startText: entry.view().text, shared };
  }

  /**
   * A shared edit closed (textsync.js): the server committed every keystroke, so nothing is sent. The change
   * from the start text to `text` is one undo step with the usual version rule: the version that holds `text`
   * (announced by the server a moment later, or already) counts as ours, so an undo after someone else's
   * change is refused (`conflict`), never silent.
   * @param {Entry} entry @param {string} text the merged text when the editor closed
   */
  finishSharedEdit(entry, text) {
    const editing = entry.editing;
    entry.editing = null;
    if (entry.removed || editing === null) return;
    if (text !== editing.startText) {
      if (entry.server !== null && entry.server.text === text) entry.ownVersion = entry.server.version;
      else entry.sharedText = text;
      this._record({ type: "update", entry, id: entry.id, before: { text: editing.startText }, after: { text } });
    }
    this._changed(entry);
  }

  /**
   * The text editor closed: `text` to save it (blur, Enter), null to cancel (Escape).
   * An empty draft is discarded; an unchanged text sends nothing.
   * @param {Entry} entry
   * @param {string | null} text
   */
  finishEdit(entry, text) {
    const editing = entry.editing;
    entry.editing = null;
    if (entry.removed) return;
    if (entry.draft) {
      if (text === null || text.trim() === "") {
        this._remove(entry, "discarded");
        return;
      }
      entry.draft = false;
      entry.createFields = { ...entry.createFields, text };
      this._sendCreate(entry);
      this._record({ type: "create", entry, id: null, after: pick(entry.view(), FIELDS) });
      this._changed(entry);
      return;
    }
    if (text === null || text === entry.view().text) {
      this._changed(entry);
      return;
    }
    entry.conflict = null;
    this.setFields(entry, { text }, { version: editing?.base ?? null });
  }

  /**
   * A note made whole at once (a template's sections), sent at once; one undo step like a typed note.
   * @param {{text: string, kind?: string, color?: string | null, x: number, y: number, w?: number, h?: number, z?: number}} fields
   * @returns {Entry}
   */
  createNote(fields) {
    const entry = new Entry(this._key());
    entry.createFields = { author: this.author, ...fields };
    this.entries.set(entry.key, entry);
    this._sendCreate(entry);
    this._record({ type: "create", entry, id: null, after: pick(entry.view(), FIELDS) });
    this._changed(entry);
    return entry;
  }

  /** @param {Entry} entry @param {number} x @param {number} y */
  move(entry, x, y) {
    this.setFields(entry, { x, y });
  }

  /** @param {Entry} entry @param {string} color "#rrggbb" */
  setColor(entry, color) {
    this.setFields(entry, { color });
  }

  /**
   * Change some of text, color, x, y, w, h, z in one update.
   * @param {Entry} entry
   * @param {object} fields
   * @param {{version?: number | null, record?: boolean}} [options] `version`: the version the change is
   *   based on (null: the latest when sent); `record: false` for undo/redo themselves
   */
  setFields(entry, fields, { version = null, record = true } = {}) {
    if (entry.removed || entry.deleting || Object.keys(fields).length === 0) return;
    const before = pick(entry.view(), Object.keys(fields));
    if (record && !entry.draft) this._record({ type: "update", entry, id: entry.id, before, after: { ...fields } });
    this._change(entry, fields, version);
  }

  /**
   * Delete a note (the view asks for confirmation first).
   * @param {Entry} entry
   * @param {{version?: number | null, record?: boolean}} [options] `version`: delete only that version
   */
  remove(entry, { version = null, record = true } = {}) {
    if (entry.removed || entry.deleting) return;
    if (entry.draft) {
      this._remove(entry, "discarded");
      return;
    }
    entry.deleting = true;
    entry.conflict = null;
    if (entry.creating !== null && this.transport.cancel(entry.creating)) {
      this._remove(entry, "discarded"); // it never left this page
      return;
    }
    if (record) this._record({ type: "delete", entry, id: entry.id, before: pick(entry.view(), FIELDS) });
    if (entry.creating !== null || entry.inflight !== null) {
      entry.waiting = { fields: {}, version, del: true }; // after the answer to what is in flight
    } else {
      this._sendDelete(entry, version ?? entry.server.version);
    }
    this._changed(entry);
  }

  /**
   * Bring back a note this page deleted: an update of its tombstone with `deleted: false`, same id, with
   * its fields. The server answers `conflict` if the tombstone is not the version we left.
   * @param {number} id
   * @param {object} fields text, color, x, y, w, h, z
   * @param {number} version the tombstone's version
   * @returns {Entry | null} null when the note is on the board already
   */
  restore(id, fields, version) {
    if (this.byId.has(id)) return null;
    const entry = new Entry(this._key());
    entry.id = id;
    entry.createFields = { ...fields };
    const cid = newClientId("u");
    entry.creating = cid;
    this.entries.set(entry.key, entry);
    this.byId.set(id, entry);
    const frame = { type: "update", id, deleted: false, version, client_id: cid };
    for (const name of FIELDS) if (fields[name] != null) frame[name] = fields[name];
    this.transport.push(frame).then(
      (ack) => this._created(entry, ack),
      (err) => this._restoreFailed(entry, err),
    );
    this._changed(entry);
    return entry;
  }

  /**
   * Close the conflict notice; with `useMine`, save the text that was refused on top of the current version.
   * @param {Entry} entry
   * @param {boolean} useMine
   */
  resolveConflict(entry, useMine) {
    const conflict = entry.conflict;
    entry.conflict = null;
    if (useMine && conflict?.mine != null && !entry.removed) {
      this.setFields(entry, { text: conflict.mine }, { version: entry.server?.version ?? null });
    } else {
      this._changed(entry);
    }
  }

  // -- sending ----------------------------------------------------------------------------------------------

  /**
   * Queue field changes: sent now, or merged into what waits for the note's pending create or update.
   * @private
   * @param {Entry} entry
   * @param {object} fields
   * @param {number | null} version the version the change was based on; null: the latest when it is sent
   */
  _change(entry, fields, version) {
    if (entry.removed || entry.deleting) return;
    if (entry.draft) {
      entry.createFields = { ...entry.createFields, ...fields };
    } else if (entry.creating !== null && entry.waiting === null && this.transport.amend(entry.creating, fields)) {
      entry.createFields = { ...entry.createFields, ...fields }; // still offline: the create carries it
    } else if (entry.creating !== null || entry.inflight !== null) {
      const waiting = entry.waiting ?? { fields: {}, version: null, del: false };
      entry.waiting = { fields: { ...waiting.fields, ...fields }, version: waiting.version ?? version, del: false };
    } else {
      this._sendUpdate(entry, fields, version ?? entry.server.version);
    }
    this._changed(entry);
  }

  /** @private */
  _sendCreate(entry) {
    const cid = newClientId("c");
    entry.creating = cid;
    this._creating.add(entry);
    const frame = { type: "create", client_id: cid, text: entry.createFields.text };
    for (const name of ["color", "x", "y", "w", "h", "z"]) {
      if (entry.createFields[name] != null) frame[name] = entry.createFields[name];
    }
    if (entry.createFields.kind === "section") frame.kind = "section";
    this.transport.push(frame).then(
      (ack) => this._created(entry, ack),
      (err) => this._createFailed(entry, err),
    );
  }

  /** @private */
  _sendUpdate(entry, fields, version) {
    const inflight = { fields, version, cid: newClientId("u"), del: false };
    entry.inflight = inflight;
    const frame = { type: "update", id: entry.id, ...fields, version, client_id: inflight.cid };
    this.transport.push(frame).then(
      (ack) => this._answered(entry, inflight, ack),
      (err) => this._failed(entry, inflight, err),
    );
  }

  /** @private */
  _sendDelete(entry, version) {
    const inflight = { fields: {}, version, cid: newClientId("d"), del: true };
    entry.inflight = inflight;
    if (entry.id !== null) this.deletesInFlight.add(entry.id);
    this.transport.push({ type: "delete", id: entry.id, version, client_id: inflight.cid }).then(
      (ack) => this._answered(entry, inflight, ack),
      (err) => this._failed(entry, inflight, err),
    );
  }

  /** Send what waited for the previous answer. @private */
  _sendWaiting(entry) {
    const waiting = entry.waiting;
    if (waiting === null || entry.inflight !== null || entry.creating !== null || entry.removed) return;
    entry.waiting = null;
    if (waiting.del) this._sendDelete(entry, waiting.version ?? entry.server.version);
    else this._sendUpdate(entry, waiting.fields, waiting.version ?? entry.server.version);
  }

  // -- answers ----------------------------------------------------------------------------------------------

  /** @private */
  _created(entry, ack) {
    entry.creating = null;
    let note = ack.note;
    const held = this._held.get(note.id);
    if (held !== undefined) {
      this._held.delete(note.id); // our own create's echo: it becomes this entry, never a second note
      if (held.seq > note.seq) note = held;
    }
    if (this._creating.delete(entry)) this._release();
    const twin = this.byId.get(note.id);
    if (twin !== undefined && twin !== entry) {
      // The event (or, after a reconnect, the snapshot) brought this note before its ack: keep this
      // entry, which the user may be typing in, and drop the twin.
      if (twin.server !== null && twin.server.seq > note.seq) note = twin.server;
      this._remove(twin, "merged");
    }
    if (entry.removed) return;
    entry.id = note.id;
    this.byId.set(note.id, entry);
    if (entry.server === null || note.seq > entry.server.seq) entry.server = note;
    entry.createFields = null;
    entry.ownVersion = ack.note.version;
    if (note.deleted) {
      this._remove(entry, "deleted"); // deleted (by someone else, or by our queued delete) before we heard back
      return;
    }
    this._changed(entry);
    this._sendWaiting(entry);
  }

  /** @private */
  _restoreFailed(entry, err) {
    entry.creating = null;
    if (entry.removed) return;
    this._remove(entry, "failed");
    this._message("restore_failed", { reason: err.code, detail: err.message });
  }

  /** @private */
  _createFailed(entry, err) {
    entry.creating = null;
    if (this._creating.delete(entry)) this._release();
    if (err.code === "cancelled" || entry.removed) return;
    this._remove(entry, "failed");
    this._message("create_failed", { reason: err.code, detail: err.message });
  }

  /** An ack of an update or delete. @private */
  _answered(entry, inflight, ack) {
    if (entry.inflight === inflight) entry.inflight = null;
    if (inflight.del && entry.id !== null) {
      this.tombstones.set(entry.id, ack.note.version);
      this.deletesInFlight.delete(entry.id);
    }
    if (entry.removed) {
      // Our delete's event came first and removed the note; its ack completes it (an undo may wait on it).
      this._emit({ type: "acked", entry });
      return;
    }
    this._applyNote(ack.note, false);
    if (entry.removed) return; // a delete's tombstone
    if (inflight.del) {
      // A delete was acked, so the tombstone is on its way or already applied; make sure it is gone.
      this._remove(entry, "deleted");
      return;
    }
    entry.ownVersion = ack.note.version;
    this._advanceBase(entry, inflight.version, ack.note.version);
    this._changed(entry);
    this._sendWaiting(entry);
  }

  /** @private */
  _failed(entry, inflight, err) {
    if (entry.inflight === inflight) entry.inflight = null;
    if (inflight.del && entry.id !== null) this.deletesInFlight.delete(entry.id);
    if (entry.removed) {
      if (inflight.del) this._emit({ type: "acked", entry }); // answered: an undo waiting on it goes on
      return;
    }
    const code = err.code;
    if (code === "not_found") {
      const mine = inflight.fields.text ?? entry.waiting?.fields.text;
      this._remove(entry, inflight.del ? "deleted" : "gone");
      if (!inflight.del) {
        this._message("deleted_elsewhere", { unsaved: Boolean(mine) });
      }
      return;
    }
    if (inflight.del) {
      entry.deleting = false;
      entry.waiting = null;
      if (code === "conflict") {
        entry.conflict = { code: "delete_refused", mine: null };
        this._message("delete_kept");
      } else {
        this._message("delete_failed", { reason: code, detail: err.message });
      }
      this._changed(entry);
      return;
    }
    if (code === "conflict" && entry.server !== null && sameFields(entry.server, inflight.fields)) {
      // The server already holds exactly these values: the change was committed before a reconnect and
      // only its ack was lost, so the resent copy met its own new version.
      entry.ownVersion = entry.server.version;
      this._advanceBase(entry, inflight.version, entry.server.version);
      this._changed(entry);
      this._sendWaiting(entry);
      return;
    }
    const refused = { ...inflight.fields, ...(entry.waiting?.fields ?? {}) };
    entry.waiting = null;
    if (code === "conflict") {
      const mine = refused.text ?? null;
      entry.conflict = { code: mine !== null ? "text_refused" : "change_refused", mine };
      this._message("edit_conflict");
    } else {
      this._message("save_failed", { reason: code, detail: err.message });
    }
    this._changed(entry);
  }

  /** Our own change went from `sent` to `now`: edits based on `sent` are now based on `now`. @private */
  _advanceBase(entry, sent, now) {
    if (sent === null || sent === undefined) return;
    if (entry.editing !== null && entry.editing.base === sent) entry.editing.base = now;
    if (entry.waiting !== null && entry.waiting.version === sent) entry.waiting.version = now;
  }

  // -- bookkeeping ------------------------------------------------------------------------------------------

  /** @private */
  _remove(entry, why) {
    if (entry.removed) return;
    if (why === "deleted" && entry.editing !== null && !entry.deleting && !entry.draft) {
      this._message("editing_deleted");
    }
    entry.removed = true;
    this.entries.delete(entry.key);
    if (entry.id !== null && this.byId.get(entry.id) === entry) this.byId.delete(entry.id);
    this._emit({ type: "remove", entry, why });
  }

  /**
   * Tell the user something (the view words it with messages.js and shows a toast).
   * @param {string} code a code of messages.js
   * @param {object} [facts] what the words need (e.g. `{max}`)
   */
  say(code, facts = {}) {
    this._message(code, facts);
  }

  /**
   * Run `fn`; the changes it makes are recorded as ONE step (undo brings them all back at once), and they
   * are sent together, so other pages get them in one burst.
   * @param {() => void} fn
   */
  group(fn) {
    if (this._group !== null) return fn(); // already inside a group: one step for all
    this._group = [];
    try {
      fn();
    } finally {
      const steps = this._group;
      this._group = null;
      if (steps.length === 1) this._emit({ type: "local", step: steps[0] });
      else if (steps.length > 1) this._emit({ type: "local", step: { type: "group", steps } });
    }
  }

  /** @private */
  _record(step) {
    if (this._group !== null) this._group.push(step);
    else this._emit({ type: "local", step });
  }

  /** @private */
  _changed(entry) {
    if (!entry.removed) this._emit({ type: "upsert", entry });
  }

  /** @private @param {string} code @param {object} [facts] */
  _message(code, facts = {}) {
    this._emit({ type: "message", ...facts, code });
  }

  /** @private */
  _emit(change) {
    for (const fn of this._listeners) fn(change);
  }

  /** @private */
  _key() {
    this._keys += 1;
    return `k${this._keys}`;
  }
}

/** The named fields of a view or note. */
function pick(view, names) {
  const out = {};
  for (const name of names) if (FIELDS.includes(name)) out[name] = view[name];
  return out;
}

/** Does `note` already hold every value in `fields`? */
function sameFields(note, fields) {
  return FIELDS.every((name) => !(name in fields) || sameValue(note[name], fields[name]));
}

function sameValue(a, b) {
  if (typeof a === "string" && typeof b === "string" && a.startsWith("#")) return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

/** Two copies of a note from the same change (its seq, version and time agree). */
function sameChange(a, b) {
  return a !== null && a.seq === b.seq && a.version === b.version && a.updated_at === b.updated_at && !b.deleted;
}
