// The colour palette: one for the whole board, opened inside the note it is for (cheaper than a palette
// of swatches in every note). Escape closes it and gives the focus back to the note's colour button.

import { PALETTE } from "./constants.js";
import { h } from "./ui.js";

export class Palette {
  /** @param {(entry: object, color: string) => void} picked */
  constructor(picked) {
    this.picked = picked;
    this.entry = null;
    this._open = null; // {el, note, button}
  }

  /** Open it on a note, or close it if it is open there. */
  toggle(entry, note) {
    const was = this.entry;
    this.close();
    if (was === entry) return;
    const button = note.parts.color;
    const current = note.dataset.color;
    const swatches = PALETTE.map(({ name, color }) =>
      h("button", {
        type: "button",
        class: "swatch",
        title: name,
        "aria-label": name,
        "aria-pressed": String(color.toLowerCase() === current),
        "data-testid": "swatch",
        dataset: { color: color.toLowerCase() },
        style: `--swatch:${color}`,
        on: {
          click: () => {
            this.close();
            this.picked(entry, color);
            note.focus({ preventScroll: true });
          },
        },
      }),
    );
    const el = h("div", { class: "note-palette", role: "group", "aria-label": "Note colour" }, ...swatches);
    el.addEventListener("keydown", (ev) => {
      ev.stopPropagation();
      if (ev.key !== "Escape") return;
      this.close();
      button.focus();
    });
    note.append(el);
    note.classList.add("palette-open");
    button.setAttribute("aria-expanded", "true");
    this.entry = entry;
    this._open = { el, note, button };
    /** @type {HTMLElement} */ (el.querySelector('[aria-pressed="true"]') ?? el.firstElementChild).focus();
  }

  close() {
    if (this._open === null) return;
    const { el, note, button } = this._open;
    note.classList.remove("palette-open");
    el.remove();
    button.setAttribute("aria-expanded", "false");
    this._open = null;
    this.entry = null;
  }

  /** A press anywhere else closes it. */
  closeUnless(target) {
    if (this._open !== null && !this._open.el.contains(target) && !this._open.button.contains(target)) this.close();
  }
}
