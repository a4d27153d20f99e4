// The text editor of one note: a textarea in place of the note's text. Enter saves, Shift+Enter adds a
// line, Escape cancels, leaving (blur) saves. Past the server's max_text it says so and refuses to save
// (the text stays as typed: nothing is cut silently).

import { MAX_TEXT } from "./constants.js";
import { h } from "./ui.js";

/**
 * @param {import("./noteview.js").NoteElement} el the note element (from noteview.js)
 * @param {import("./notes.js").Entry} entry
 * @param {import("./notes.js").NoteStore} store
 * @param {{closed: () => void}} hooks called once the editor is gone
 * @returns {() => void} cancel (closes it without saving)
 */
export function openEditor(el, entry, store, { closed }) {
  store.beginEdit(entry);
  const text = el.parts.text;
  const editor = h("textarea", {
    class: "note-editor",
    "data-testid": "note-editor",
    "aria-label": "Note text (Enter saves, Shift+Enter adds a line, Escape cancels)",
    rows: 4,
  });
  const limit = h("p", { class: "note-limit", "data-testid": "note-limit", role: "status", hidden: true });
  editor.value = entry.view().text;
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
    if (value !== null && tooLong()) {
      value = null; // leaving keeps the saved version; the message says why
      store.say("text_too_long", { max: MAX_TEXT });
    }
    done = true;
    const hadFocus = document.activeElement === editor;
    editor.remove();
    limit.remove();
    text.hidden = false;
    el.classList.remove("editing");
    store.finishEdit(entry, value);
    closed();
    if (hadFocus && el.isConnected) el.focus({ preventScroll: true });
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
