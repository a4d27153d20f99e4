// Every message the page shows about a note, worded in one place. The note store (notes.js) and undo
// (undo.js) emit codes with the facts; the view turns them into words here, so the store stays free of
// user-facing English and a wording changes in one file.

/** @typedef {import("./ui.js").Level} Level */

/**
 * @typedef {object} Message what the store says: `{type: "message", code, ...facts}`
 * @property {string} code one of the keys of WORDS
 * @property {string} [reason] the server's error code, when a request was refused
 * @property {string} [detail] the server's own message, when there is one
 * @property {boolean} [unsaved] some of the user's text was not saved
 * @property {number} [max] the text limit (text_too_long)
 */

/** @type {Record<string, (m: Message) => [Level, string]>} */
const WORDS = {
  restore_failed: (m) => [
    m.reason === "conflict" ? "warn" : "error",
    `The note was not brought back: ${{ conflict: "someone else changed it meanwhile", not_found: "it no longer exists" }[m.reason] ?? m.detail}.`,
  ],
  create_failed: (m) => [
    "error",
    `The new note was not saved: ${m.reason === "timeout" ? "the server did not confirm it (it will appear if it was saved)" : m.detail}`,
  ],
  deleted_elsewhere: (m) => ["warn", "That note was deleted by someone else" + (m.unsaved ? "; your text was not saved." : ".")],
  delete_kept: () => ["warn", "The note changed before your delete reached the server; it was kept."],
  delete_failed: (m) => ["error", `Could not delete the note: ${m.detail}`],
  edit_conflict: () => ["warn", "Edit conflict: the note was changed by someone else."],
  save_failed: (m) => ["error", `Could not save your change: ${m.detail}`],
  editing_deleted: () => ["warn", "The note you were editing was deleted by someone else."],
  text_too_long: (m) => ["error", `Not saved: the text is longer than ${m.max.toLocaleString()} characters.`],
  undo_deleted_elsewhere: () => ["warn", "That note was deleted by someone else; there is nothing to undo."],
  undo_back_elsewhere: () => ["warn", "That note is on the board again (someone brought it back)."],
  undo_never_saved: () => ["warn", "That note was never saved."],
};

/** The words of a conflict shown on the note itself (`entry.conflict.code`). */
const CONFLICTS = {
  delete_refused: "Not deleted: someone else changed this note first. This is their version.",
  text_refused: "Someone else changed this note while you were editing. This is their version; your text was not saved.",
  change_refused: "Someone else changed this note first. This is their version.",
};

/**
 * How to show a message: its level and its words.
 * @param {Message} message
 * @returns {{level: Level, text: string}}
 */
export function word(message) {
  const words = WORDS[message.code];
  if (words === undefined) return { level: "error", text: message.detail ?? message.code };
  const [level, text] = words(message);
  return { level, text };
}

/** @param {string} code an `entry.conflict.code` @returns {string} */
export function conflictText(code) {
  return CONFLICTS[code] ?? CONFLICTS.change_refused;
}

/** Every code the store, undo and the editor may emit (the tests check each has words). */
export const CODES = Object.freeze(Object.keys(WORDS));
export const CONFLICT_CODES = Object.freeze(Object.keys(CONFLICTS));
