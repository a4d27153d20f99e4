// UndoStack: this tab's own changes, newest last, and the ones undone, ready to redo (pure, no DOM).
//
// A step is whatever the caller records (here: {type, ref, before, after}); the stack only keeps order,
// the limit and the undo/redo split. A new step after an undo drops the redo side, as every editor does.
// A step that cannot be applied any more (the note was deleted by someone else) is dropped with discard().

export const HISTORY_LIMIT = 100;

export class UndoStack {
  /** @param {{limit?: number}} [options] */
  constructor({ limit = HISTORY_LIMIT } = {}) {
    this.limit = limit;
    /** @type {object[]} */
    this.done = [];
    /** @type {object[]} */
    this.undone = [];
    this._listeners = new Set();
  }

  get canUndo() {
    return this.done.length > 0;
  }

  get canRedo() {
    return this.undone.length > 0;
  }

  /** @param {() => void} fn called after every change of the stack @returns {() => void} unsubscribe */
  subscribe(fn) {
    this._listeners.add(fn);
    return () => this._listeners.delete(fn);
  }

  /** A new change: it can be undone; what was undone before can no longer be redone. @param {object} step */
  record(step) {
    this.done.push(step);
    if (this.done.length > this.limit) this.done.splice(0, this.done.length - this.limit);
    this.undone = [];
    this._emit();
  }

  /** The step to undo now (moved to the redo side), or null. @returns {object | null} */
  undo() {
    const step = this.done.pop() ?? null;
    if (step !== null) this.undone.push(step);
    this._emit();
    return step;
  }

  /** The step to redo now (moved back to the undo side), or null. @returns {object | null} */
  redo() {
    const step = this.undone.pop() ?? null;
    if (step !== null) this.done.push(step);
    this._emit();
    return step;
  }

  /** The newest step that undo() would return, without taking it. */
  peekUndo() {
    return this.done.at(-1) ?? null;
  }

  /** The step redo() would return, without taking it. */
  peekRedo() {
    return this.undone.at(-1) ?? null;
  }

  /** Forget a step wherever it is (it can no longer be applied). @param {object} step */
  discard(step) {
    this.done = this.done.filter((s) => s !== step);
    this.undone = this.undone.filter((s) => s !== step);
    this._emit();
  }

  /** Forget every step matching `pred` (e.g. all steps of a note deleted by someone else). */
  discardWhere(pred) {
    const before = this.done.length + this.undone.length;
    this.done = this.done.filter((s) => !pred(s));
    this.undone = this.undone.filter((s) => !pred(s));
    if (this.done.length + this.undone.length !== before) this._emit();
  }

  /** @private */
  _emit() {
    for (const fn of this._listeners) fn(this);
  }
}
