// Keyboard shortcuts of the board page, and the overlay (`?`) that lists every one of them.
// The list below is the single source: the overlay is built from it, so it cannot go stale.

import { h, openDialog } from "./ui.js";

/** [keys, what it does, where it works] */
export const SHORTCUTS = [
  ["N", "New note", "board"],
  ["S", "Add a section (a titled area; its notes move with it)", "board"],
  ["/", "Search notes", "board"],
  ["Ctrl+Z  (⌘Z)", "Undo your last change", "board"],
  ["Ctrl+Shift+Z  or  Ctrl+Y", "Redo", "board"],
  ["+  /  -", "Zoom in / out", "board"],
  ["0", "Zoom to 100 %", "board"],
  ["F", "Fit all notes on screen", "board"],
  ["H", "Replay the board's history (again: back to live)", "board"],
  ["?", "Show this list", "board"],
  ["Tab  /  Shift+Tab", "Go to the next / previous note or button", "board"],
  ["Ctrl+A  (⌘A)", "Select every note", "board"],
  ["Drag on the empty board  or  Shift+drag", "Select the notes in a rectangle", "board"],
  ["Shift+click  or  Ctrl+click", "Add a note to the selection, or take it out", "board"],
  ["Drag a selected note", "Move the whole selection (one undo step)", "board"],
  ["Delete  /  PageUp  /  C", "Delete, bring to the front or recolour the whole selection", "selection"],
  ["Enter  or  F2", "Edit the focused note", "note"],
  ["Arrow keys  (Shift: faster)", "Move the focused note", "note"],
  ["Alt+Arrow keys", "Resize the focused note", "note"],
  ["PageUp", "Bring the focused note to the front", "note"],
  ["C", "Colour palette of the focused note", "note"],
  ["V", "Versions of the focused note (restore one)", "note"],
  ["D  /  Shift+D", "Vote for the focused note / take your vote back (while a vote is open)", "note"],
  ["Delete  or  Backspace", "Delete the focused note (asks first)", "note"],
  ["Enter", "Save the text", "editor"],
  ["Shift+Enter", "New line", "editor"],
  ["Escape", "Cancel editing, close a dialog or the palette, clear the search or the selection, stop following", "anywhere"],
];

/** Is the user typing in a field (where letters are text, not shortcuts)? */
export function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
}

/**
 * Which board action a key press means, or null. Pure: takes the event's fields.
 * @param {{key: string, ctrlKey: boolean, metaKey: boolean, altKey: boolean, shiftKey: boolean}} ev
 * @param {boolean} typing the focus is in a text field
 * @returns {string | null}
 */
export function actionFor(ev, typing) {
  const mod = ev.ctrlKey || ev.metaKey;
  const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
  if (mod && !ev.altKey) {
    if (typing) return null; // the field's own undo
    if (key === "z") return ev.shiftKey ? "redo" : "undo";
    if (key === "y") return "redo";
    return null;
  }
  if (typing || mod || ev.altKey) return null;
  switch (ev.key) {
    case "n":
    case "N":
      return "new";
    case "/":
      return "search";
    case "?":
      return "help";
    case "+":
    case "=":
      return "zoom-in";
    case "-":
    case "_":
      return "zoom-out";
    case "0":
      return "zoom-reset";
    case "f":
    case "F":
      return "fit";
    case "h":
    case "H":
      return "history";
    case "s":
    case "S":
      return "section";
    default:
      return null;
  }
}

/**
 * Listen to the document's keys and run `actions[name]()`.
 * @param {Record<string, () => void>} actions
 */
export function bindShortcuts(actions) {
  document.addEventListener("keydown", (ev) => {
    if (ev.defaultPrevented || ev.isComposing || document.querySelector("dialog[open]")) return;
    const name = actionFor(ev, isTyping(ev.target));
    if (name === null || actions[name] === undefined) return;
    ev.preventDefault();
    actions[name]();
  });
}

/** The `?` overlay: a dialog with the table of SHORTCUTS. */
export class ShortcutOverlay {
  constructor() {
    const rows = SHORTCUTS.map(([keys, what, where]) =>
      h(
        "tr",
        { "data-testid": "shortcut" },
        h(
          "td",
          {},
          ...keys.split("  ").map((k, i) => (i > 0 && /^(or|\/)$/.test(k.trim()) ? ` ${k.trim()} ` : h("kbd", { text: k.trim() }))),
        ),
        h("td", { text: what }),
        h("td", { class: "muted", text: where }),
      ),
    );
    const close = h("button", { class: "btn btn-primary", value: "close", "data-testid": "shortcuts-close" }, "Close");
    this.dialog = h(
      "dialog",
      { class: "dialog shortcuts", id: "shortcuts", "data-testid": "shortcuts", "aria-labelledby": "shortcuts-title" },
      h(
        "form",
        { method: "dialog" },
        h("h2", { class: "dialog-title", id: "shortcuts-title", text: "Keyboard shortcuts" }),
        h("table", { class: "shortcut-table" }, h("tbody", {}, ...rows)),
        h("div", { class: "dialog-actions" }, close),
      ),
    );
    this.close = close;
    document.body.append(this.dialog);
  }

  open() {
    if (!this.dialog.open) openDialog(this.dialog, this.close);
  }
}
