// The board's toolbar: undo/redo, search, zoom, and the board menu (export, import, delete board).
// The board menu talks REST (the export, import and delete endpoints) with the page's token; changes
// they make arrive on every page as normal events, this one included.

import { bearer } from "./auth.js";
import { matcher } from "./search.js";
import { stepZoom } from "./layout.js";
import { byId as $ } from "./ui.js";

export class Toolbar {
  /**
   * @param {object} deps
   * @param {string} deps.board
   * @param {import("./board.js").BoardView} deps.view
   * @param {import("./undo.js").UndoController} deps.undo
   * @param {() => string} deps.token the current access token ("" for none)
   * @param {(message: string, ok?: string) => Promise<boolean>} deps.confirm
   * @param {(text: string, level?: import("./ui.js").Level) => void} deps.toast
   */
  constructor({ board, view, undo, token, confirm, toast }) {
    this.board = board;
    this.view = view;
    this.undoer = undo;
    this.token = token;
    this.confirm = confirm;
    this.toast = toast;
    this.search = $("search", HTMLInputElement);
    this.count = $("search-count");
    $("undo").addEventListener("click", () => this.undo());
    $("redo").addEventListener("click", () => this.redo());
    undo.subscribe((stack) => {
      $("undo", HTMLButtonElement).disabled = !stack.canUndo;
      $("redo", HTMLButtonElement).disabled = !stack.canRedo;
    });
    $("zoom-in").addEventListener("click", () => this.zoom(1));
    $("zoom-out").addEventListener("click", () => this.zoom(-1));
    $("zoom-fit").addEventListener("click", () => this.view.fitToScreen());
    $("zoom-level").addEventListener("click", () => this.view.viewport.setZoom(1));
    view.viewport.subscribe((z) => {
      $("zoom-level").textContent = `${Math.round(z * 100)}%`;
    });

    this.search.addEventListener("input", () => this.applySearch());
    this.search.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        ev.preventDefault();
        this.search.value = "";
        this.applySearch();
        this.search.blur();
      }
    });
    // Live: a note that changes is matched again when it is drawn; the count follows every change.
    view.store.subscribe((c) => {
      if (c.type === "upsert" || c.type === "remove" || c.type === "synced") this._scheduleCount();
    });

    for (const link of /** @type {NodeListOf<HTMLAnchorElement>} */ (document.querySelectorAll("a[data-export]"))) {
      const format = link.dataset.export;
      link.href = `/api/boards/${encodeURIComponent(board)}/export?format=${format}`;
      link.setAttribute("download", `${board}.${format}`);
      link.addEventListener("click", (ev) => {
        if (!this.token()) return; // a plain link does it
        ev.preventDefault();
        this._download(link.href, `${board}.${format}`);
      });
    }
    $("import-file").addEventListener("change", () => this._import());
    $("import-button").addEventListener("click", () => $("import-file").click());
    $("delete-board").addEventListener("click", () => this._deleteBoard());
  }

  undo() {
    if (!this.view.readOnly && !this.undoer.undo()) this.toast("Nothing to undo.", "info");
  }

  redo() {
    if (!this.view.readOnly && !this.undoer.redo()) this.toast("Nothing to redo.", "info");
  }

  zoom(dir) {
    this.view.viewport.setZoom(stepZoom(this.view.viewport.zoom, dir));
  }

  focusSearch() {
    this.search.focus();
    this.search.select();
  }

  applySearch() {
    this.view.setMatch(matcher(this.search.value));
    this._scheduleCount();
  }

  /** @private */
  _scheduleCount() {
    if (this._countTimer) return;
    this._countTimer = setTimeout(() => {
      this._countTimer = null;
      const m = this.view.match;
      if (m === null) {
        this.count.hidden = true;
        return;
      }
      let n = 0;
      for (const e of this.view.store.entries.values()) if (m(e.view())) n += 1;
      this.count.hidden = false;
      this.count.textContent = `${n} match${n === 1 ? "" : "es"}`;
    }, 50);
  }

  /** @private */
  async _request(method, path, body) {
    const headers = { accept: "application/json", ...bearer(this.token()) };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(path, { method, headers, body });
    let data = null;
    try {
      data = await res.json();
    } catch {
      // not JSON (a proxy's page)
    }
    return { res, data };
  }

  /** @private */
  async _download(url, filename) {
    try {
      const res = await fetch(url, { headers: bearer(this.token()) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const blob = await res.blob();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = filename;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (err) {
      this.toast(`Export failed: ${err.message}`, "error");
    }
  }

  /** @private */
  async _import() {
    const input = $("import-file", HTMLInputElement);
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    const text = await file.text();
    try {
      const { res, data } = await this._request("POST", `/api/boards/${encodeURIComponent(this.board)}/import`, text);
      if (res.ok) {
        const skipped = data?.skipped ? ` (${data.skipped} were here already)` : "";
        this.toast(`Imported ${data?.created ?? 0} note${data?.created === 1 ? "" : "s"} from ${file.name}${skipped}.`, "info");
      } else {
        const why = data?.error?.message ?? `HTTP ${res.status}`;
        const what = res.status === 413 ? "the file is too large" : why;
        this.toast(`Import failed, nothing was imported: ${what}`, "error");
      }
    } catch (err) {
      this.toast(`Import failed: ${err.message}`, "error");
    }
  }

  /** @private */
  async _deleteBoard() {
    const n = this.view.store.entries.size;
    const yes = await this.confirm(
      `Delete the board “${this.board}” and all its ${n} note${n === 1 ? "" : "s"} for everyone? This cannot be undone.`,
      "Delete board",
    );
    if (!yes) return;
    try {
      const { res, data } = await this._request("DELETE", `/api/boards/${encodeURIComponent(this.board)}`);
      if (res.ok) this.toast(`Board deleted: ${data?.deleted ?? 0} notes removed.`, "info");
      else this.toast(`Could not delete the board: ${data?.error?.message ?? `HTTP ${res.status}`}`, "error");
    } catch (err) {
      this.toast(`Could not delete the board: ${err.message}`, "error");
    }
  }
}
