// The text editor of one note: a textarea in place of the note's text. Enter saves, Shift+Enter adds a
// line, Escape cancels, leaving (blur) saves. Past the server's max_text it says so and refuses to save
// (the text stays as typed: nothing is cut silently). A saved note is typed together (textsync.js): every
// keystroke is shared and committed as it is typed, closing sends nothing more, and Escape takes back only
// what this person typed. Without the shared document (an older server, no answer in time) it saves the
// whole text with its version, as before.

import { MAX_TEXT } from "./constants.js";
import { h } from "./ui.js";

/**
 * @param {import("./noteview.js").NoteElement} el the note element (from noteview.js)
 * @param {import("./notes.js").Entry} entry
 * @param {import("./notes.js").NoteStore} store
 * @param {{closed: () => void, share?: ((editor: HTMLTextAreaElement) => import("./textsync.js").SharedText | null)}} hooks
 *   closed: called once the editor is gone; share: the note's shared text for this editor, if it has one
 * @returns {() => void} cancel (closes it without saving)
 */
export function openEditor(el, entry, store, { closed, share }) {
  const text = el.parts.text;
  const editor = h("textarea", {
    class: "note-editor",
    "data-testid": "note-editor",
    "aria-label": "Note text (Enter saves, Shift+Enter adds a line, Escape cancels)",
    rows: 4,
  });
  const limit = h("p", { class: "note-limit", "data-testid": "note-limit", role: "status", hidden: true });
  editor.value = entry.view().text;
  /** @type {import("./textsync.js").SharedText | null} */
  let shared = entry.id !== null && !entry.draft && share ? share(editor) : null;
  store.beginEdit(entry, { shared: shared !== null });
  let attached = false; // the shared document arrived and the editor shares every keystroke
  /** Without the shared document (none in time, or closed before it came): saved as a whole text, with its version. */
  const unshare = () => {
    shared?.destroy();
    shared = null;
    if (entry.editing !== null) entry.editing.shared = false;
  };
  const startText = editor.value;
  if (shared !== null) {
    shared.synced.then((ok) => {
      if (done || shared === null) return;
      if (ok) {
        shared.attach(startText); // what was typed before the document came is applied to it then
        attached = true;
      } else unshare();
      showLimit();
    });
    editor.addEventListener("shared-change", () => showLimit());
    editor.addEventListener("too-long", () => {
      limit.hidden = false;
      limit.textContent = `${MAX_TEXT.toLocaleString()} characters at most: this one was not added.`;
    });
  }
  text.hidden = true;
  text.after(editor, limit);
  el.classList.add("editing");
  let done = false;
  const tooLong = () => editor.value.length > MAX_TEXT;
  const showLimit = () => {
    const n = editor.value.length;
    limit.hidden = n < MAX_TEXT * 0.9;
    limit.classList.toggle("over", n > MAX_TEXT);
    const counts = `${n.toLocaleString()} / ${MAX_TEXT.toLocaleString()} characters`;
    limit.textContent = n > MAX_TEXT ? `${counts}: too long to save, remove ${(n - MAX_TEXT).toLocaleString()}.` : counts;
  };
  const finish = (value) => {
    if (done) return;
    if (!attached && shared !== null && value !== null && !tooLong()) {
      // Saved before the shared document came: the editor closes now, and what was typed is applied to the
      // document when it arrives (as if it had come in time). Saving it as a whole text with the version the
      // editor opened on would meet a conflict with this person's own typing committed meanwhile (an earlier
      // edit's Escape, say); only without a document in time is it saved that way.
      done = true;
      const pending = shared;
      close();
      pending.synced.then((ok) => {
        if (ok) {
          pending.attach(startText);
          const merged = pending.text.toString();
          pending.destroy();
          store.finishSharedEdit(entry, merged);
        } else {
          pending.destroy();
          if (entry.editing !== null) entry.editing.shared = false;
          store.finishEdit(entry, value);
        }
        closed();
      });
      return;
    }
    if (!attached) unshare();
    if (shared !== null) {
      done = true;
      if (value === null) shared.revertOwn();
      const merged = shared.text.toString();
      shared.destroy();
      close();
      store.finishSharedEdit(entry, merged);
      closed();
      return;
    }
    if (value !== null && tooLong()) {
      value = null; // leaving keeps the saved version; the message says why
      store.say("text_too_long", { max: MAX_TEXT });
    }
    done = true;
    close();
    store.finishEdit(entry, value);
    closed();
  };
  const close = () => {
    const hadFocus = document.activeElement === editor;
    editor.remove();
    limit.remove();
    text.hidden = false;
    el.classList.remove("editing");
    if (hadFocus && el.isConnected) queueMicrotask(() => el.focus({ preventScroll: true }));
  };
  editor.addEventListener("keydown", (ev) => {
    ev.stopPropagation(); // keys typed here are text, not shortcuts
    if (ev.isComposing) return;
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      if (tooLong()) showLimit();
      else finish(editor.value);
    } else if (ev.key === "Escape") {
      ev.preventDefault();
      finish(null);
    }
  });
  editor.addEventListener("blur", () => finish(editor.value));
  editor.addEventListener("input", showLimit);
  editor.focus({ preventScroll: true });
  editor.setSelectionRange(editor.value.length, editor.value.length);
  showLimit();
  return () => finish(null);
}
