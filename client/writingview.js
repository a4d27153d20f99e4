// Private writing in the page (issue #23, docs/protocol.md "Private writing"): a facilitator's **Private
// writing** switches the board so that each note written from then on is its writer's alone (the others see
// a frosted placeholder where it is, no text); **Reveal** switches back, and every such note appears for
// everyone at once. The server enforces it (core/privacy.py); this page only asks, and says which mode is on.

import { byId as $ } from "./ui.js";

export class WritingControl {
  /**
   * @param {object} deps
   * @param {import("./session.js").BoardSession} deps.session
   * @param {(text: string, level?: import("./ui.js").Level) => void} deps.toast
   */
  constructor({ session, toast }) {
    this.session = session;
    this.toast = toast;
    $("writing-private").addEventListener("click", () => this._set("private"));
    $("writing-reveal").addEventListener("click", () => this._set("open"));
    session.subscribe(() => this._show());
    this._show();
  }

  /** @private */
  async _set(writing) {
    try {
      await this.session.change(() => ({ writing }));
    } catch (err) {
      const what = writing === "open" ? "reveal the notes" : "start private writing";
      this.toast(err.status === 403 ? `Only a facilitator can ${what} on this board.` : `Could not ${what}: ${err.message}`, "error");
    }
  }

  /** @private */
  _show() {
    const priv = this.session.session?.writing === "private";
    $("writing").dataset.state = priv ? "private" : "open";
    document.body.dataset.writing = priv ? "private" : "open";
    $("writing-private").hidden = priv;
    $("writing-reveal").hidden = !priv;
    $("writing-said").textContent = priv ? "Writing privately" : "";
  }
}
