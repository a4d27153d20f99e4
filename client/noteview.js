// The DOM of one note: built once (cheaply: the colour palette and the conflict notice are made only when
// needed, so a 5,000-note board stays light), then updated in place from the entry's view.
// Text goes in with textContent; colours are checked against #rrggbb before they reach a style.

import { COLOR_RE, PALETTE } from "./constants.js";
import { inkFor } from "./contrast.js";
import { conflictText } from "./messages.js";
import { h } from "./ui.js";

const SECTION_BELOW = 1_000_000_001; // more than Z_LIMIT: every section's z-index is below every note's

/** @type {[number, number, string][]} (below seconds, per unit, unit name) */
const RELATIVE = [
  [60, 1, "s"],
  [3600, 60, "min"],
  [86400, 3600, "h"],
  [86400 * 30, 86400, "d"],
];

/**
 * "just now", "5 min ago", "3 h ago", "2 d ago", else the date.
 * @param {string | null} iso
 * @param {number} [now]
 */
export function ago(iso, now = Date.now()) {
  const t = Date.parse(iso ?? "");
  if (!Number.isFinite(t)) return "";
  const s = Math.max(0, (now - t) / 1000);
  if (s < 45) return "just now";
  for (const [limit, unit, name] of RELATIVE) {
    if (s < limit) return `${Math.max(1, Math.round(s / unit))} ${name} ago`;
  }
  return new Date(t).toLocaleDateString();
}

let template = null;

/** The markup every note starts from, built once and cloned (much cheaper than building each). */
function noteTemplate() {
  if (template !== null) return template;
  template = h(
    "article",
    { class: "note", tabindex: "0", "data-testid": "note", "aria-roledescription": "note" },
    h(
      "div",
      { class: "note-top" },
      h(
        "span",
        { class: "note-state", "data-testid": "note-pending", hidden: true },
        // Which label shows depends on the connection (body[data-connection], see style.css).
        h("span", { class: "note-state-saving", text: "saving…" }),
        h("span", { class: "note-state-waiting", text: "not sent yet" }),
      ),
      h(
        "button",
        {
          type: "button",
          class: "note-btn note-versions-btn",
          title: "Versions (V)",
          "aria-label": "Versions of this note",
          "data-testid": "note-versions",
          "data-action": "versions",
        },
        "◷",
      ),
      // A section's own tools (shown by style.css only on sections).
      h("button", {
        type: "button",
        class: "note-btn section-btn",
        title: "Tidy: arrange this section's notes in a grid",
        "aria-label": "Tidy this section",
        "data-testid": "section-tidy",
        "data-action": "tidy",
        text: "▦",
      }),
      h("button", {
        type: "button",
        class: "note-btn section-btn",
        title: "Collapse to the title (this page only), or open again",
        "aria-label": "Collapse this section",
        "aria-expanded": "true",
        "data-testid": "section-collapse",
        "data-action": "collapse",
        text: "▾",
      }),
      h("button", {
        type: "button",
        class: "note-btn note-color-btn",
        title: "Colour (C)",
        "aria-label": "Change colour",
        "aria-expanded": "false",
        "data-testid": "note-color-button",
        "data-action": "palette",
      }),
      h(
        "button",
        {
          type: "button",
          class: "note-btn note-delete",
          title: "Delete (Delete key)",
          "aria-label": "Delete note",
          "data-testid": "note-delete",
          "data-action": "delete",
        },
        "×",
      ),
    ),
    h("p", { class: "note-text", "data-testid": "note-text" }),
    h(
      "footer",
      { class: "note-meta" },
      h("span", { class: "note-author", "data-testid": "note-author" }),
      h("span", { class: "note-edited", "data-testid": "note-edited", hidden: true }),
      h("span", { class: "note-time", "data-testid": "note-time" }),
    ),
    h("span", { class: "note-resize", "data-testid": "note-resize", "aria-hidden": "true", title: "Resize (Alt+arrows)" }),
  );
  return template;
}

/**
 * A note's element, with its parts kept on it so that updates never search the DOM.
 * @typedef {HTMLElement & {parts: {[part: string]: HTMLElement | null}}} NoteElement
 */

/**
 * A note element with its parts kept on it (`el.parts`), so updates never search the DOM.
 * @param {string} key the entry key
 * @returns {NoteElement}
 */
export function buildNote(key) {
  const el = /** @type {NoteElement} */ (noteTemplate().cloneNode(true));
  el.dataset.key = key;
  const [top, text, meta] = /** @type {HTMLCollectionOf<HTMLElement>} */ (el.children);
  const [state, , , fold, color, del] = /** @type {HTMLCollectionOf<HTMLElement>} */ (top.children);
  const [author, edited, time] = /** @type {HTMLCollectionOf<HTMLElement>} */ (meta.children);
  el.parts = { state, color, del, fold, text, author, edited, time, meta, changed: null, conflict: null, votes: null };
  return el;
}

/**
 * Bring a note element up to date with its entry.
 * @param {NoteElement} el
 * @param {import("./notes.js").Entry} entry
 * @param {{x: number, y: number} | null} place where to draw it (null: leave the position alone)
 * @param {{match: ((view: object) => boolean) | null, now: number, onConflict: object, folded?: Set<string>,
 *   hidden?: Set<string>, foldedHeight?: number, votes?: any}} ctx folded: collapsed sections; hidden: the
 *   notes they hide; votes: the board's vote as this page sees it (voteview.js `drawing`)
 */
export function renderNote(el, entry, place, ctx) {
  const view = entry.view();
  const parts = el.parts;
  if (view.id !== null && el.dataset.id !== String(view.id)) {
    el.dataset.id = String(view.id);
    // A slight tilt, the same for a note on every screen: it looks like paper, not like a table.
    const noise = Math.abs(Math.sin(view.id * 12.9898) * 43758.5453) % 1;
    el.style.setProperty("--tilt", `${(noise * 2.4 - 1.2).toFixed(2)}deg`);
  }
  el.dataset.pending = String(view.pending);
  el.dataset.version = view.version === null ? "" : String(view.version);
  el.hidden = view.hidden || (ctx.hidden?.has(entry.key) ?? false);

  const color = view.color !== null && COLOR_RE.test(view.color) ? view.color : PALETTE[0].color;
  const lower = color.toLowerCase();
  if (el.dataset.color !== lower) {
    el.style.setProperty("--note-bg", color);
    el.style.setProperty("--note-ink", inkFor(color));
    el.dataset.color = lower;
  }
  if (place !== null) {
    el.style.left = `${Math.max(0, place.x)}px`; // the canvas starts at 0: keep notes reachable
    el.style.top = `${Math.max(0, place.y)}px`;
  }
  const section = view.kind === "section";
  const folded = section && (ctx.folded?.has(entry.key) ?? false);
  if (el.classList.contains("section") !== section) el.classList.toggle("section", section);
  el.classList.toggle("folded", folded);
  if (section) {
    parts.fold.textContent = folded ? "▸" : "▾";
    parts.fold.setAttribute("aria-expanded", String(!folded));
    parts.fold.setAttribute("aria-label", folded ? "Open this section" : "Collapse this section");
  }
  if (el.dataset.resizing !== "true") {
    el.style.width = `${view.w}px`;
    el.style.height = `${folded ? (ctx.foldedHeight ?? 48) : view.h}px`;
  }
  // Sections lie under every note: their stacking order is taken below the notes' whole range.
  if (el.dataset.lifted !== "true") el.style.zIndex = String(section ? view.z - SECTION_BELOW : view.z);
  el.dataset.z = String(view.z);

  if (parts.text.textContent !== view.text) parts.text.textContent = view.text;
  parts.text.classList.toggle("is-empty", view.text === "");
  const author = view.author ?? "";
  if (parts.author.textContent !== author) parts.author.textContent = author;
  const editor = view.updated_by;
  const edited = view.version !== null && view.version > 1 && editor !== null && editor !== "";
  const editedText = edited ? `edited by ${editor}` : "";
  if (parts.edited.textContent !== editedText) parts.edited.textContent = editedText;
  parts.edited.hidden = !edited;
  const when = ago(view.updated_at, ctx.now);
  if (parts.time.textContent !== when) parts.time.textContent = when;
  if (parts.time.title !== (view.updated_at ?? "")) parts.time.title = view.updated_at ?? "";
  const privacy = view.privacy ?? "";
  if ((el.dataset.privacy ?? "") !== privacy) el.dataset.privacy = privacy;
  const label =
    view.privacy === "hidden" ? "being written privately" : view.text.trim() ? view.text.trim().slice(0, 60) : "empty note";
  const aria =
    view.kind === "section" ? `Section: ${label}` : author ? `Note by ${author}: ${label}` : `Note: ${label}`;
  if (el.getAttribute("aria-label") !== aria) el.setAttribute("aria-label", aria);

  parts.state.hidden = !view.pending;
  const changed = entry.changedWhileEditing();
  if (changed && parts.changed === null) {
    parts.changed = h(
      "p",
      { class: "note-changed", "data-testid": "note-changed" },
      "Someone else changed this note meanwhile.",
    );
    parts.text.after(parts.changed);
  }
  if (parts.changed !== null) parts.changed.hidden = !changed;
  renderConflict(el, entry, ctx.onConflict);
  renderVotes(el, view, ctx.votes);

  const match = ctx.match === null ? null : ctx.match(view);
  el.classList.toggle("match", match === true);
  el.classList.toggle("dimmed", match === false);
}

/**
 * A note's votes while the board has a vote: this page's dots (●), everyone's total when it may be seen, and
 * the buttons to vote and to take a vote back. Made the first time a vote needs it.
 */
function renderVotes(el, view, votes) {
  const parts = el.parts;
  const shown = votes?.vote != null && view.kind === "note" && view.id !== null;
  if (!shown) {
    if (parts.votes !== null) parts.votes.hidden = true;
    return;
  }
  if (parts.votes === null) {
    parts.votes = h(
      "span",
      { class: "note-votes", "data-testid": "note-votes" },
      h("span", { class: "note-dots", "data-testid": "note-dots" }),
      h("span", { class: "note-total", "data-testid": "note-total" }),
      h("button", {
        type: "button",
        class: "note-btn vote-btn",
        title: "Take your vote back (Shift+D)",
        "aria-label": "Take your vote back",
        "data-testid": "note-unvote",
        "data-action": "unvote",
        text: "−",
      }),
      h("button", {
        type: "button",
        class: "note-btn vote-btn",
        title: "Vote for this note (D)",
        "aria-label": "Vote for this note",
        "data-testid": "note-vote",
        "data-action": "vote",
        text: "+",
      }),
    );
    parts.meta.prepend(parts.votes);
  }
  const box = parts.votes;
  const [dots, total, unvote, vote] = /** @type {HTMLCollectionOf<HTMLButtonElement>} */ (box.children);
  box.hidden = false;
  const mine = votes.mine.get(view.id) ?? 0;
  const all = votes.totals === null ? null : (votes.totals.get(view.id) ?? 0);
  const dotText = "●".repeat(Math.min(mine, 10));
  if (dots.textContent !== dotText) dots.textContent = dotText;
  const totalText = all === null || (all === 0 && votes.vote.open) ? "" : String(all); // 0 only once closed
  if (total.textContent !== totalText) total.textContent = totalText;
  const said = all === null ? `your votes: ${mine}` : `${all} vote${all === 1 ? "" : "s"}, ${mine} of them yours`;
  if (box.getAttribute("aria-label") !== said) box.setAttribute("aria-label", said);
  box.dataset.total = totalText;
  box.dataset.mine = String(mine);
  vote.hidden = !votes.canVote(view.id);
  unvote.hidden = !(votes.vote.open && mine > 0 && !votes.readOnly);
}

/** The conflict notice, made the first time a note has one. */
function renderConflict(el, entry, handlers) {
  const parts = el.parts;
  if (entry.conflict === null) {
    if (parts.conflict !== null) parts.conflict.hidden = true;
    return;
  }
  if (parts.conflict === null) {
    parts.conflict = h(
      "div",
      { class: "note-conflict", role: "alert", "data-testid": "note-conflict" },
      h("p", { class: "note-conflict-message" }),
      h("p", { class: "note-conflict-mine", "data-testid": "conflict-mine-text" }),
      h(
        "div",
        { class: "note-conflict-actions" },
        h("button", {
          type: "button",
          class: "conflict-mine",
          "data-testid": "conflict-use-mine",
          text: "Use my text",
          on: { click: () => handlers.useMine(entry) },
        }),
        h("button", {
          type: "button",
          class: "conflict-dismiss",
          "data-testid": "conflict-dismiss",
          text: "Keep theirs",
          on: { click: () => handlers.keepTheirs(entry) },
        }),
      ),
    );
    parts.meta.before(parts.conflict);
  }
  const box = parts.conflict;
  box.hidden = false;
  const mine = entry.conflict.mine;
  box.querySelector(".note-conflict-message").textContent = conflictText(entry.conflict.code);
  box.querySelector(".conflict-mine").hidden = mine === null;
  const yours = box.querySelector(".note-conflict-mine");
  yours.hidden = mine === null;
  yours.textContent = mine === null ? "" : `Yours: “${mine.length > 80 ? `${mine.slice(0, 80)}…` : mine}”`;
}
