// The other editors' carets inside a note's text editor (issue #22), each in its person's colour with the
// name above it. Positions travel as Yjs relative positions in the y-websocket awareness of the note's
// document (so they stay on the same characters while others type); a textarea cannot draw them, so a hidden
// mirror with the editor's font and wrapping measures where an index falls. Names go in as textContent.

import * as Y from "yjs";

import { h, hueOf } from "./ui.js";

const MIRRORED = [
  "boxSizing", "width", "paddingTop", "paddingRight", "paddingBottom", "paddingLeft", "borderTopWidth",
  "borderRightWidth", "borderBottomWidth", "borderLeftWidth", "fontFamily", "fontSize", "fontWeight",
  "fontStyle", "letterSpacing", "lineHeight", "textTransform", "wordSpacing", "tabSize",
];

export class RemoteCarets {
  /**
   * @param {HTMLTextAreaElement} editor
   * @param {Y.Doc} doc
   * @param {Y.Text} text
   * @param {any} awareness the provider's y-protocols Awareness
   * @param {string} name this person's name (shown to the others)
   * @param {(name: string) => string | null} colorOf the colour the board shows for that person (awareness)
   * @param {(fn: () => void) => () => void} [colorsChanged] subscribe to changes of what `colorOf` answers
   */
  constructor(editor, doc, text, awareness, name, colorOf, colorsChanged) {
    this.colorOf = colorOf;
    this.editor = editor;
    this.doc = doc;
    this.text = text;
    this.awareness = awareness;
    this.layer = h("div", { class: "remote-carets", "aria-hidden": "true" });
    this.mirror = h("div", { class: "caret-mirror", "aria-hidden": "true" });
    this._frame = null;
    /** @type {Map<number, HTMLElement>} the caret shown for each other editor (their Yjs client id) */
    this._carets = new Map();
    awareness.setLocalStateField("user", { name: name || "Someone" });
    this._onChange = () => this.schedule();
    this._onSelect = () => this.report();
    awareness.on("change", this._onChange);
    editor.addEventListener("select", this._onSelect);
    editor.addEventListener("keyup", this._onSelect);
    editor.addEventListener("pointerup", this._onSelect);
    editor.addEventListener("input", this._onSelect);
    editor.addEventListener("scroll", this._onChange);
    text.observe(this._onChange);
    // the board may learn a person's colour after their caret is drawn (its awareness comes on /ws)
    this._unsubscribe = colorsChanged?.(() => {
      for (const caret of this._carets.values()) {
        if (caret.dataset.color !== this._colorFor(caret.dataset.name ?? "")) return this.schedule();
      }
    });
  }

  /** Put the layer beside the editor (once the editor is in the page). */
  mount() {
    this.editor.after(this.layer);
    document.body.append(this.mirror);
    this.report();
  }

  /** Tell the others where this caret is, as positions that follow the text. */
  report() {
    const { selectionStart, selectionEnd } = this.editor;
    const rel = (i) => Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(this.text, i));
    this.awareness.setLocalStateField("cursor", { anchor: rel(selectionStart), head: rel(selectionEnd) });
  }

  schedule() {
    if (this._frame !== null) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = null;
      this._draw();
    });
  }

  destroy() {
    this.awareness.off("change", this._onChange);
    this._unsubscribe?.();
    this.text.unobserve(this._onChange);
    this.awareness.setLocalState(null);
    this.layer.remove();
    this.mirror.remove();
    this._carets.clear();
  }

  /** Each other editor's caret, kept from frame to frame (moved, renamed, recoloured in place). @private */
  _draw() {
    const style = getComputedStyle(this.editor);
    for (const key of MIRRORED) this.mirror.style[key] = style[key];
    const seen = new Set();
    for (const [client, state] of this.awareness.getStates()) {
      if (client === this.doc.clientID || !state?.cursor?.head) continue;
      const abs = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(state.cursor.head), this.doc);
      if (abs === null) continue;
      seen.add(client);
      const at = this._place(abs.index);
      const name = typeof state.user?.name === "string" ? state.user.name : "Someone";
      let caret = this._carets.get(client);
      if (caret === undefined) {
        caret = h("div", { class: "remote-caret", "data-testid": "remote-caret" }, h("span"));
        this._carets.set(client, caret);
        this.layer.append(caret);
      }
      const label = /** @type {HTMLElement} */ (caret.firstChild);
      if (label.textContent !== name) label.textContent = name;
      const color = this._colorFor(name);
      if (caret.dataset.name !== name || caret.dataset.color !== color) {
        caret.dataset.name = name;
        caret.dataset.color = color;
        caret.style.setProperty("--caret", color);
      }
      caret.style.transform = `translate(${at.left}px, ${at.top}px)`;
    }
    for (const [client, caret] of this._carets) {
      if (seen.has(client)) continue;
      caret.remove();
      this._carets.delete(client);
    }
  }

  /** @private */
  _colorFor(name) {
    return this.colorOf(name) ?? `hsl(${hueOf(name)} 70% 42%)`;
  }

  /** Where index `i` of the text is drawn, relative to the editor's box. @private */
  _place(i) {
    const value = this.editor.value;
    const marker = h("span", {}, "\u200b");
    this.mirror.replaceChildren(document.createTextNode(value.slice(0, i)), marker);
    return {
      left: this.editor.offsetLeft + marker.offsetLeft - this.editor.scrollLeft,
      top: this.editor.offsetTop + marker.offsetTop - this.editor.scrollTop,
    };
  }
}
