// Small DOM helpers shared by the pages. Data only ever goes in as textContent or attribute values.

/**
 * Create an element. `props` may hold `class`, `text` (set as textContent), `dataset`, `on` (event
 * listeners) and any other attribute (set with setAttribute, never as HTML). Children are nodes or
 * strings (strings become text nodes).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {object} [props]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "on") for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/**
 * The page's element with this id, of the kind expected; throws when the markup has none (a bug in the page,
 * caught where it happens rather than later as "cannot read properties of null").
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @param {{ new (): T, prototype: T }} [kind] HTMLInputElement, HTMLDialogElement, ... (default: any element)
 * @returns {T}
 */
export function byId(id, kind) {
  const el = document.getElementById(id);
  const want = kind ?? HTMLElement;
  if (!(el instanceof want)) throw new Error(`the page has no #${id} (${want.name})`);
  return /** @type {T} */ (el);
}

/** @typedef {"info" | "warn" | "error"} Level how a message is shown (and announced) */

/** Short-lived messages at the bottom of the page (errors from the server, conflicts, ...). */
export class Toasts {
  /** @param {HTMLElement} region an aria-live container */
  constructor(region) {
    this.region = region;
  }

  /**
   * @param {string} text
   * @param {Level} [level]
   * @param {number} [ms] how long it stays
   */
  show(text, level = "info", ms = level === "info" ? 3000 : 5000) {
    // Repeating the newest message adds nothing: bump its timer instead.
    const last = /** @type {HTMLElement | null} */ (this.region.lastElementChild);
    if (last !== null && last.dataset.text === text) {
      clearTimeout(Number(last.dataset.timer));
      last.dataset.timer = String(setTimeout(() => this._dismiss(last), ms));
      return;
    }
    const close = h("button", { class: "toast-close", type: "button", "aria-label": "Dismiss" }, "×");
    const toast = h(
      "div",
      { class: `toast toast-${level}`, role: level === "info" ? "status" : "alert", "data-testid": "toast" },
      h("span", { class: "toast-text", text }),
      close,
    );
    toast.dataset.text = text;
    toast.dataset.level = level;
    close.addEventListener("click", () => this._dismiss(toast));
    this.region.append(toast);
    while (this.region.childElementCount > 4) this.region.firstElementChild.remove();
    toast.dataset.timer = String(setTimeout(() => this._dismiss(toast), ms));
  }

  /** @private */
  _dismiss(toast) {
    toast.classList.add("toast-leaving");
    setTimeout(() => toast.remove(), 200);
  }
}

const dialogSessions = new WeakMap();

/**
 * Show a modal <dialog> and resolve with its returnValue when it closes ("cancel" after Escape).
 * Focus goes back where it was.
 *
 * The "close" event is dispatched in a later task, so when a dialog is closed and at once opened again
 * the first close event can reach the second opening; each opening therefore only answers to its own.
 * @param {HTMLDialogElement} dialog
 * @param {HTMLElement} [focus] the element to focus in the dialog
 * @returns {Promise<string>}
 */
export function openDialog(dialog, focus) {
  const back = document.activeElement;
  const session = {};
  dialogSessions.set(dialog, session);
  dialog.returnValue = "cancel";
  dialog.showModal();
  focus?.focus();
  return new Promise((resolve) => {
    const onClose = () => {
      const current = dialogSessions.get(dialog) === session;
      if (current && dialog.open) return; // a late close event of an earlier opening
      dialog.removeEventListener("close", onClose);
      if (current && back instanceof HTMLElement && back.isConnected) back.focus();
      resolve(current ? dialog.returnValue : "cancel");
    };
    dialog.addEventListener("close", onClose);
  });
}

/**
 * Ask a yes/no question in a modal <dialog> (Escape cancels). The dialog needs a `.dialog-message`
 * element and buttons with value="cancel" and value="ok".
 * @param {HTMLDialogElement} dialog
 * @param {string} message
 * @param {string} [ok] the confirming button's label
 * @returns {Promise<boolean>}
 */
export async function confirmDialog(dialog, message, ok = "Delete") {
  dialog.querySelector(".dialog-message").textContent = message;
  dialog.querySelector('button[value="ok"]').textContent = ok;
  return (await openDialog(dialog, dialog.querySelector('button[value="ok"]'))) === "ok";
}

/** Initials for an avatar: "Ada Lovelace" -> "AL", "bob" -> "B". @param {string} name */
export function initials(name) {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : parts;
  return letters.map((p) => Array.from(p)[0].toUpperCase()).join("") || "?";
}

/**
 * A stable hue for a name, so the same person keeps the same avatar color.
 * @param {string} name
 * @returns {number} 0..359
 */
export function hueOf(name) {
  let hash = 2166136261; // FNV-1a: similar names still land far apart
  for (const ch of name) {
    hash ^= ch.codePointAt(0);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return hash % 360;
}
