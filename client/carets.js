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
   */
  constructor(editor, doc, text, awareness, name, colorOf) {
    this.colorOf = colorOf;
    this.editor = editor;
    this.doc = doc;
    this.text = text;
    this.awareness = awareness;
    this.layer = h("div", { class: "remote-carets", "aria-hidden": "true" });
    this.mirror = h("div", { class: "caret-mirror", "aria-hidden": "true" });
    this._frame = null;
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
    this.text.unobserve(this._onChange);
    this.awareness.setLocalState(null);
    this.layer.remove();
    this.mirror.remove();
  }

  /** @private */
  _draw() {
    const carets = [];
    const style = getComputedStyle(this.editor);
    for (const key of MIRRORED) this.mirror.style[key] = style[key];
    for (const [client, state] of this.awareness.getStates()) {
      if (client === this.doc.clientID || !state?.cursor?.head) continue;
      const abs = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(state.cursor.head), this.doc);
      if (abs === null) continue;
      const at = this._place(abs.index);
      const name = typeof state.user?.name === "string" ? state.user.name : "Someone";
      const caret = h("div", { class: "remote-caret", "data-testid": "remote-caret" }, h("span", { text: name }));
      const color = this.colorOf(name);
      caret.style.setProperty("--caret", color ?? `hsl(${hueOf(name)} 70% 42%)`);
      caret.style.transform = `translate(${at.left}px, ${at.top}px)`;
      carets.push(caret);
    }
    this.layer.replaceChildren(...carets);
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
