// A note's versions (issue #24): a dialog listing every logged change of one note, newest first, with who,
// when and what changed (changes.js), and "Restore this version": an ordinary versioned update of the note
// through the store, so it is undoable (Ctrl+Z) and meets a conflict if someone changed the note meanwhile.
// It reads GET /api/boards/{board}/notes/{id}/history; while open, a change of the note reloads it.

import { describeChange, restoreFields } from "./changes.js";
import { ago } from "./noteview.js";
import { boardPath, getJSON } from "./rest.js";
import { byId as $, h, openDialog } from "./ui.js";

const PAGE = 1000; // changes per request
const MAX_PAGES = 20; // a note with more changes shows the newest of the first 20,000
const SHOWN = 200; // versions listed (newest first)

export class VersionsPanel {
  /**
   * @param {object} deps
   * @param {string} deps.board
   * @param {import("./notes.js").NoteStore} deps.store
   * @param {() => string} deps.token the access token ("" for none)
   * @param {() => boolean} deps.readOnly no restore for a read-only token
   * @param {(text: string, level?: import("./ui.js").Level) => void} deps.toast
   */
  constructor({ board, store, token, readOnly, toast }) {
    this.board = board;
    this.store = store;
    this.token = token;
    this.readOnly = readOnly;
    this.toast = toast;
    this.dialog = $("versions-dialog", HTMLDialogElement);
    this.list = $("versions-list");
    this.status = $("versions-status");
    /** @type {import("./notes.js").Entry | null} */
    this.entry = null;
    this._loading = null; // the AbortController of the read under way
    this._reload = null; // a timer: the note changed while the dialog was open
    /** @type {number | null} the note's version when the list was read (a newer one reloads it) */
    this._shownVersion = null;
    $("versions-close").addEventListener("click", () => this.dialog.close());
    store.subscribe((change) => {
      if (this.entry === null || change.entry !== this.entry) return;
      if (change.type === "remove") this.status.textContent = "This note was deleted meanwhile.";
      else if (change.type === "upsert" && this._shownVersion !== this.entry.server?.version) this._scheduleLoad();
    });
  }

  /** Open the dialog on a note's versions. @param {import("./notes.js").Entry} entry */
  async open(entry) {
    if (entry.id === null || entry.draft) {
      this.toast("This note is not saved yet: it has no versions.", "info");
      return;
    }
    this.entry = entry;
    this._shownVersion = null;
    this.list.replaceChildren();
    const closed = openDialog(this.dialog, $("versions-close"));
    this._load();
    await closed;
    this._loading?.abort();
    clearTimeout(this._reload ?? undefined);
    this.entry = null;
  }

  /** @private */
  _scheduleLoad() {
    clearTimeout(this._reload ?? undefined);
    this._reload = setTimeout(() => this._load(), 150);
  }

  /** Read every page of the note's history, then list it. @private */
  async _load() {
    const entry = this.entry;
    if (entry === null) return;
    this._loading?.abort();
    const abort = new AbortController();
    this._loading = abort;
    this.status.textContent = "Loading versions…";
    const path = `${boardPath(this.board)}/notes/${entry.id}/history`;
    /** @type {any[]} */
    let changes = [];
    let truncated = false;
    let since = 0;
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const part = await getJSON(path, { since, limit: PAGE }, this.token(), abort.signal);
        truncated ||= part.truncated;
        changes = changes.concat(part.changes);
        if (!part.more || part.changes.length === 0) break;
        since = part.changes[part.changes.length - 1].seq;
      }
    } catch (err) {
      if (abort.signal.aborted) return;
      this.status.textContent = `The versions could not be read: ${err.message}.`;
      return;
    }
    if (this.entry !== entry) return;
    this._shownVersion = entry.server?.version ?? null;
    this._render(entry, changes, truncated);
  }

  /** @private */
  _render(entry, changes, truncated) {
    const items = [];
    const newest = changes.length - 1;
    for (let i = newest; i >= 0 && items.length < SHOWN; i--) {
      const change = changes[i];
      const parts = describeChange(i > 0 ? changes[i - 1].note : null, change);
      items.push(this._item(entry, change, parts, i === newest));
    }
    this.list.replaceChildren(...items);
    const older = changes.length - items.length;
    const notes = [];
    if (changes.length === 0) notes.push("No versions are kept for this note.");
    if (older > 0) notes.push(`${older.toLocaleString()} older versions are not listed.`);
    if (truncated) notes.push("Older changes are no longer kept (the history's retention).");
    this.status.textContent = notes.join(" ");
  }

  /** @private */
  _item(entry, change, parts, current) {
    const note = change.note;
    const head = h(
      "div",
      { class: "version-head" },
      h("strong", { text: `Version ${note.version}` }),
      h("span", { text: change.by ? ` · ${change.by}` : "" }),
      h("time", { class: "muted", datetime: change.at, title: change.at, text: ` · ${ago(change.at)}` }),
      current ? h("span", { class: "version-current", text: "now" }) : null,
    );
    const what = h("div", { class: "version-what", "data-testid": "version-what" });
    for (const part of parts) what.append(partView(part));
    if (parts.length === 0) what.append(h("span", { class: "muted", text: "no visible change" }));
    const li = h("li", { class: "version", "data-testid": "version", "data-version": String(note.version) }, head, what);
    if (!current && change.op !== "deleted" && !this.readOnly()) {
      const button = h("button", {
        type: "button",
        class: "btn btn-ghost version-restore",
        "data-testid": "version-restore",
        "aria-label": `Restore version ${note.version}`,
        text: "Restore this version",
        on: { click: () => this._restore(entry, note) },
      });
      li.append(button);
    }
    return li;
  }

  /** @private */
  _restore(entry, note) {
    if (entry.removed) {
      this.toast("This note was deleted meanwhile: undo the delete first.", "warn");
      return;
    }
    const fields = restoreFields(note, entry.view());
    if (Object.keys(fields).length === 0) {
      this.toast(`The note already looks like version ${note.version}.`, "info");
      return;
    }
    // Based on the version shown: if someone changed the note since, the server answers `conflict`.
    this.store.setFields(entry, fields, { version: entry.server?.version ?? null });
    this.dialog.close();
    this.toast(`Version ${note.version} restored. Ctrl+Z takes it back.`, "info");
  }
}

/** One part of what a change did, as text (never markup). @param {import("./changes.js").Part} part */
function partView(part) {
  switch (part.kind) {
    case "text":
      return h(
        "span",
        { class: "version-text" },
        part.before,
        part.removed ? h("del", { text: part.removed }) : null,
        part.inserted ? h("ins", { text: part.inserted }) : null,
        part.after,
      );
    case "recoloured": {
      const swatch = (color) => {
        const el = h("span", { class: "version-swatch", title: color ?? "" });
        el.style.setProperty("--swatch", safeColor(color));
        return el;
      };
      return h("span", { class: "version-tag" }, "recoloured ", swatch(part.from), " → ", swatch(part.to));
    }
    default:
      return h("span", { class: "version-tag", text: LABELS[part.kind] });
  }
}

const LABELS = {
  created: "created",
  restored: "restored after a delete",
  deleted: "deleted",
  moved: "moved",
  resized: "resized",
  front: "brought to the front",
};

/** A colour from the server, used in a style only when it is a plain hex colour. */
function safeColor(color) {
  return typeof color === "string" && /^#[0-9a-fA-F]{3,8}$/.test(color) ? color : "transparent";
}
