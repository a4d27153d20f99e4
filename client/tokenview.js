// The token's UI: the dialog that asks for one, and the header's token button and read-only badge.
// Every text goes in as textContent (the server's refusal message included).

import { cleanToken, describeProblem } from "./auth.js";
import { h, openDialog } from "./ui.js";

/** A modal dialog that asks for an access token, saying why. Built once, appended to <body>. */
export class TokenDialog {
  constructor() {
    this.reason = h("p", { class: "dialog-message", id: "token-reason", "data-testid": "token-reason" });
    this.detail = h("p", { class: "field-help token-detail", "data-testid": "token-detail", hidden: true });
    this.input = h("input", {
      class: "input token-input",
      id: "token-input",
      "data-testid": "token-input",
      type: "password",
      autocomplete: "off",
      spellcheck: "false",
      "aria-describedby": "token-reason token-help token-error",
    });
    this.error = h("p", { class: "field-error", id: "token-error", "data-testid": "token-error", hidden: true });
    const cancel = h("button", { type: "button", class: "btn btn-ghost", "data-testid": "token-cancel" }, "Not now");
    this.dialog = h(
      "dialog",
      {
        class: "dialog token-dialog",
        id: "token-dialog",
        "data-testid": "token-dialog",
        "aria-labelledby": "token-title",
      },
      h(
        "form",
        { method: "dialog", novalidate: true },
        h("h2", { class: "dialog-title", id: "token-title", text: "Access token" }),
        this.reason,
        this.detail,
        h("label", { class: "field-label", for: "token-input", text: "Token" }),
        this.input,
        h(
          "p",
          { class: "field-help", id: "token-help" },
          "Ask whoever runs this server (they make one with ",
          h("code", { text: "notesboard token" }),
          "). It is kept in this browser, for this server only.",
        ),
        this.error,
        h(
          "div",
          { class: "dialog-actions" },
          cancel,
          h("button", { class: "btn btn-primary", value: "save", "data-testid": "token-save" }, "Use token"),
        ),
      ),
    );
    cancel.addEventListener("click", () => this.dialog.close("cancel"));
    this.dialog.querySelector("form").addEventListener("submit", (ev) => {
      const submitter = /** @type {HTMLButtonElement | null} */ (ev.submitter);
      if (submitter?.value === "save" && cleanToken(this.input.value) === "") {
        ev.preventDefault(); // keep the dialog open
        this._showError(this.input.value.trim() ? "That does not look like a token." : "Paste a token first.");
      }
    });
    this.input.addEventListener("input", () => this._showError(""));
    document.body.append(this.dialog);
  }

  /**
   * Show the dialog; resolves with the token entered (cleaned), or null for "Not now" / Escape.
   * @param {{status: number | null, message: string | null} | null} problem why it asks (null: the user did)
   * @param {string} [board]
   * @returns {Promise<string | null>}
   */
  async ask(problem, board) {
    const { reason, detail } = describeProblem(problem, board);
    this.reason.textContent = reason;
    this.detail.textContent = detail;
    this.detail.hidden = detail === "";
    this.input.value = "";
    this._showError("");
    if (this.dialog.open) this.dialog.close("cancel"); // a newer reason replaces the question
    const answer = await openDialog(this.dialog, this.input);
    const token = answer === "save" ? cleanToken(this.input.value) : "";
    this.input.value = "";
    return token || null;
  }

  /** @private */
  _showError(text) {
    this.error.textContent = text;
    this.error.hidden = text === "";
    this.input.setAttribute("aria-invalid", String(text !== ""));
  }
}

/** The header's token button ("Token", "Token needed") and the "Read-only" badge. */
export class AccessBadge {
  /**
   * @param {object} parts
   * @param {HTMLButtonElement} parts.button
   * @param {HTMLElement} parts.label the button's text
   * @param {HTMLElement} parts.readOnly the badge
   */
  constructor({ button, label, readOnly }) {
    this.button = button;
    this.label = label;
    this.readOnly = readOnly;
  }

  /** @param {import("./auth.js").TokenGate} gate */
  update(gate) {
    this.readOnly.hidden = !gate.readOnly;
    this.button.hidden = !gate.required && gate.needed === null;
    this.button.dataset.needed = String(gate.needed !== null);
    this.label.textContent = gate.needed !== null ? "Token needed" : "Token";
    const parts = [];
    if (gate.needed !== null) parts.push(describeProblem(gate.needed).reason);
    else if (gate.token) parts.push(gate.readOnly ? "Access token: read-only" : "Access token: can edit");
    const exp = gate.claims?.exp;
    if (gate.needed === null && exp) parts.push(`expires ${new Date(exp * 1000).toLocaleString()}`);
    parts.push("Click to enter another token.");
    this.button.title = parts.join(" · ");
  }
}
