// Typing together (issue #22): while a saved note is edited, its text is a Yjs document shared with everyone
// editing it, on the server's /y/{board}/{note_id} socket (the stock y-websocket provider; this module owns
// that socket for the edit's lifetime, socket.js keeps the board's). What is typed merges character by
// character; others' typing appears in the editor as it is committed, the caret kept in place; Ctrl+Z in the
// editor undoes only this person's typing (Y.UndoManager). Every keystroke is committed by the server, so
// closing the editor sends nothing more.

import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";

import { RemoteCarets } from "./carets.js";
import { movePosition, onDocument, smallestEdit } from "./textdiff.js";

const LOCAL = "local typing"; // the origin of this page's own transactions
const SYNC_TIMEOUT_MS = 5000;

export class SharedText {
  /**
   * @param {object} options
   * @param {string} options.url the board's socket origin (ws:// or wss://)
   * @param {string} options.board
   * @param {number} options.noteId
   * @param {string} options.token the access token ("" for none)
   * @param {string} [options.key] this browser's key (a note written while private is its writer's alone)
   * @param {HTMLTextAreaElement} options.editor
   * @param {number} options.maxText a keystroke that would make the text longer is not applied
   * @param {string} [options.name] this person's name, shown with their caret in the others' editors
   * @param {(name: string) => string | null} [options.colorOf] the board's colour for a person (awareness)
   * @param {(fn: () => void) => () => void} [options.colorsChanged] subscribe to changes of the board's colours
   */
  constructor({ url, board, noteId, token, key = "", editor, maxText, name = "", colorOf = () => null, colorsChanged }) {
    this.colorOf = colorOf;
    this.colorsChanged = colorsChanged;
    this.editor = editor;
    this.maxText = maxText;
    this.name = name;
    /** @type {RemoteCarets | null} */
    this.carets = null;
    this.doc = new Y.Doc();
    this.text = this.doc.getText("text");
    this.provider = new WebsocketProvider(`${url}/y/${encodeURIComponent(board)}`, String(noteId), this.doc, {
      params: { ...(token ? { token } : {}), ...(key ? { key } : {}) },
      disableBc: true,
    });
    this.undo = new Y.UndoManager(this.text, { trackedOrigins: new Set([LOCAL]), captureTimeout: 500 });
    /** @type {Promise<boolean>} true once the document arrived; false when it did not in time */
    this.synced = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), SYNC_TIMEOUT_MS);
      const done = (isSynced) => {
        if (!isSynced) return;
        clearTimeout(timer);
        this.provider.off("sync", done);
        resolve(true);
      };
      this.provider.on("sync", done);
    });
    this._onInput = () => this._typed();
    this._onKey = (ev) => this._key(ev);
    this._attached = false; // before attach(), the document filling in is not a change to show
    this.text.observe((event, transaction) => {
      if (this._attached && transaction.origin !== LOCAL) this._remote(event.delta);
    });
  }

  /**
   * Start sharing (after `synced`): what was typed since the editor opened on `startText` is applied to the
   * shared text as one edit, then the editor shows the merged text and every keystroke is shared.
   * @param {string} startText
   */
  attach(startText) {
    const typed = onDocument(smallestEdit(startText, this.editor.value), startText, this.text.toString(), this.editor.value);
    if (typed.remove > 0 || typed.insert) {
      this.doc.transact(() => {
        if (typed.remove > 0) this.text.delete(typed.at, typed.remove);
        if (typed.insert) this.text.insert(typed.at, typed.insert);
      }, LOCAL);
    }
    if (this.editor.value !== this.text.toString()) {
      const { selectionStart, selectionEnd } = this.editor; // kept, a selection too (Ctrl+A, then typing)
      this.editor.value = this.text.toString();
      this.editor.setSelectionRange(selectionStart, selectionEnd);
    }
    this.editor.addEventListener("input", this._onInput);
    this.editor.addEventListener("keydown", this._onKey);
    this._attached = true;
    const awareness = this.provider.awareness;
    this.carets = new RemoteCarets(this.editor, this.doc, this.text, awareness, this.name, this.colorOf, this.colorsChanged);
    this.carets.mount();
  }

  /** Close the shared document (the server has committed every keystroke already). */
  destroy() {
    this.editor.removeEventListener("input", this._onInput);
    this.editor.removeEventListener("keydown", this._onKey);
    this.carets?.destroy();
    this.undo.destroy();
    this.provider.destroy();
    this.doc.destroy();
  }

  /** Take back what this person typed in this editor (Escape), leaving others' typing. */
  revertOwn() {
    while (this.undo.canUndo()) this.undo.undo();
  }

  /** @private */
  _typed() {
    const merged = this.text.toString();
    if (this.editor.value.length > this.maxText && this.editor.value.length > merged.length) {
      const caret = this.editor.selectionStart - (this.editor.value.length - merged.length);
      this.editor.value = merged; // the server would refuse the whole update: keep what is shared
      this.editor.setSelectionRange(caret, caret);
      this.editor.dispatchEvent(new Event("too-long"));
      return;
    }
    const edit = smallestEdit(merged, this.editor.value);
    if (edit.remove === 0 && edit.insert === "") return;
    this.doc.transact(() => {
      if (edit.remove > 0) this.text.delete(edit.at, edit.remove);
      if (edit.insert) this.text.insert(edit.at, edit.insert);
    }, LOCAL);
  }

  /** Others' typing: the editor shows the merged text, the caret and selection kept where they were. @private */
  _remote(delta) {
    const { selectionStart, selectionEnd } = this.editor;
    this.editor.value = this.text.toString();
    this.editor.setSelectionRange(movePosition(selectionStart, delta), movePosition(selectionEnd, delta));
    this.editor.dispatchEvent(new Event("shared-change"));
  }

  /** Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y in the editor: this person's own typing only. @private */
  _key(ev) {
    if (!(ev.ctrlKey || ev.metaKey) || ev.altKey) return;
    const key = ev.key.toLowerCase();
    const step = key === "z" ? (ev.shiftKey ? "redo" : "undo") : key === "y" ? "redo" : null;
    if (step === null) return;
    ev.preventDefault();
    this.undo[step](); // its transaction is not LOCAL: the editor follows as for others' typing
  }
}
