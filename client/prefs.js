// Preferences kept in localStorage: the display name, the last color picked and this browser's voter key.
// Storage can be unavailable (private mode, disabled cookies): then nothing is remembered.

import { COLOR_RE, MAX_NAME, PALETTE } from "./constants.js";
import { randomToken } from "./push.js";

const NAME_KEY = "notesboard.name";
const COLOR_KEY = "notesboard.color";
const RECENT_KEY = "notesboard.recent";

function read(key) {
  try {
    return globalThis.localStorage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    if (value === null) globalThis.localStorage?.removeItem(key);
    else globalThis.localStorage?.setItem(key, value);
  } catch {
    // not remembered; the page still works
  }
}

/**
 * A display name as the server accepts it (1..64 printable characters), or "" for none.
 * @param {string} raw
 * @returns {string}
 */
export function cleanName(raw) {
  // Control characters are not "printable" for the server; drop them and collapse whitespace.
  const name = String(raw)
    .replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]/gu, "")
    .replace(/\s+/g, " ")
    .trim();
  return Array.from(name).slice(0, MAX_NAME).join("");
}

/** @returns {string} the saved display name, "" when none */
export function loadName() {
  return cleanName(read(NAME_KEY) ?? "");
}

/** @param {string} name */
export function saveName(name) {
  write(NAME_KEY, name || null);
}

/** @returns {string} the color for new notes */
export function loadColor() {
  const color = read(COLOR_KEY);
  return color !== null && COLOR_RE.test(color) ? color : PALETTE[0].color;
}

/** @param {string} color */
export function saveColor(color) {
  if (COLOR_RE.test(color)) write(COLOR_KEY, color);
}

/** Boards this browser opened, newest first. @returns {string[]} */
export function loadRecent() {
  try {
    const list = JSON.parse(read(RECENT_KEY) ?? "[]");
    return Array.isArray(list) ? list.filter((b) => typeof b === "string").slice(0, 12) : [];
  } catch {
    return [];
  }
}

/** @param {string} board */
export function rememberBoard(board) {
  const list = [board, ...loadRecent().filter((b) => b !== board)].slice(0, 12);
  write(RECENT_KEY, JSON.stringify(list));
}

/**
 * This browser's voter key (the socket's `key=`): votes are counted per key when the token names no one, so
 * the same browser keeps its votes across reloads and name changes. Made once, kept in localStorage.
 */
export function voterKey() {
  let key = read("notesboard.voter");
  if (key === null || !/^[A-Za-z0-9_-]{1,64}$/.test(key)) {
    key = randomToken(16);
    write("notesboard.voter", key);
  }
  return key;
}
