// Undo/redo of this tab's own changes (no DOM; node tests drive it with a NoteStore).
//
// The store reports every change this page makes ({type: "local", step}); the steps go on an UndoStack.
// Undoing sends the inverse as a normal versioned change: an update back to the previous values, a
// delete of a note we created, a restore (update of the tombstone with deleted:false) of a note we
// deleted. Each is based on the version our own change produced, so a note someone else changed since
// comes back as `conflict` and shows the conflict view; a note someone else deleted is explained and its
// steps are dropped. A step whose note still waits for an ack runs once the ack is in.

import { UndoStack } from "./history.js";

export class UndoController {
  /**
   * @param {import("./notes.js").NoteStore} store
   * @param {{stack?: UndoStack}} [options]
   */
  constructor(store, { stack = new UndoStack() } = {}) {
    this.store = store;
    this.stack = stack;
    /** @type {{dir: "undo" | "redo", step: object}[]} requests waiting for a note's ack */
    this._waiting = [];
    store.subscribe((change) => {
      if (change.type === "local") this.stack.record(change.step);
      else if (change.type === "upsert" || change.type === "remove" || change.type === "acked") this._runWaiting();
    });
  }

  /** @param {() => void} fn called after every change of the stack @returns {() => void} unsubscribe */
  subscribe(fn) {
    return this.stack.subscribe(fn);
  }

  /** Undo the newest change of this tab. @returns {boolean} whether there was one */
  undo() {
    const step = this.stack.undo();
    if (step === null) return false;
    this._request("undo", step);
    return true;
  }

  /** Redo the change undone last. @returns {boolean} whether there was one */
  redo() {
    const step = this.stack.redo();
    if (step === null) return false;
    this._request("redo", step);
    return true;
  }

  /** @private */
  _request(dir, step) {
    this._waiting.push({ dir, step });
    this._runWaiting();
  }

  /** Run waiting requests in order, as long as the head one can go now. @private */
  _runWaiting() {
    while (this._waiting.length > 0) {
      const head = this._waiting[0];
      const state = head.step.type === "group" ? this._applyGroup(head) : this._apply(head.dir, head.step);
      if (state === "wait") return;
      this._waiting.shift();
    }
  }

  /**
   * A group (several notes changed at once, e.g. a selection moved): each note's step with the rules of a
   * single note, all sent in one go (one burst for the other pages); a note still waiting for an ack holds
   * the rest of the group until it is in.
   * @private @param {{dir: "undo" | "redo", step: {steps: object[]}, left?: object[]}} request
   * @returns {"done" | "wait"}
   */
  _applyGroup(request) {
    const { dir, step } = request;
    request.left ??= dir === "undo" ? [...step.steps].reverse() : [...step.steps];
    let state = "done";
    this.store.group(() => {
      while (request.left.length > 0) {
        if (this._apply(dir, request.left[0]) === "wait") {
          state = "wait";
          return;
        }
        request.left.shift();
      }
    });
    return /** @type {"done" | "wait"} */ (state);
  }

  /**
   * @private
   * @returns {"done" | "wait" | "gone"}
   */
  _apply(dir, step) {
    const id = step.id ?? step.entry?.id ?? null;
    if (id !== null) step.id = id;
    const live = id === null ? (step.entry.removed ? undefined : step.entry) : this.store.byId.get(id);
    if (live !== undefined && live.awaitingAck) {
      return "wait"; // our previous change of this note is not acknowledged yet
    }
    // What the step needs: the note on the board (update, delete) or gone by our own delete (restore).
    const wantsLive = (step.type === "update") || (step.type === "create") === (dir === "undo");
    if (wantsLive) {
      if (live === undefined) return this._gone(step, "undo_deleted_elsewhere");
      if (step.type === "update") {
        const fields = dir === "undo" ? step.before : step.after;
        this.store.setFields(live, fields, { version: live.ownVersion ?? live.server?.version ?? null, record: false });
      } else {
        this.store.remove(live, { version: live.ownVersion ?? null, record: false });
      }
      return "done";
    }
    if (live !== undefined) return this._gone(step, "undo_back_elsewhere");
    if (id === null) return this._gone(step, "undo_never_saved");
    const version = this.store.tombstones.get(id);
    if (version === undefined) {
      if (this._ownDeletePending(id)) return "wait";
      return this._gone(step, "undo_deleted_elsewhere");
    }
    const fields = step.type === "create" ? step.after : step.before;
    this.store.restore(id, fields, version);
    return "done";
  }

  /** @private */
  _ownDeletePending(id) {
    if (this.store.deletesInFlight.has(id)) return true; // its event may have removed the note before the ack
    for (const entry of this.store.entries.values()) if (entry.id === id && entry.deleting) return true;
    return false;
  }

  /**
   * The note a step needs is gone: say so and forget every step of that note.
   * @private @param {object} step @param {string} code a code of messages.js @returns {"gone"}
   */
  _gone(step, code) {
    const id = step.id;
    const ofThatNote = (s) => s === step || (id !== null && (s.id ?? s.entry?.id) === id);
    // A group keeps its other notes' steps; it goes when none is left.
    this.stack.discardWhere((s) => (s.type === "group" ? (s.steps = s.steps.filter((x) => !ofThatNote(x))).length === 0 : ofThatNote(s)));
    this.store.say(code);
    return "gone";
  }
}
