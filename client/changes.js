// What one logged change did to a note (issue #24), pure so node tests drive it: the versions panel says
// it in words (text diff, moved, resized, recoloured...) and "restore this version" sends only the fields
// that differ from the note as it is now.

import { smallestEdit } from "./textdiff.js";

/** The fields a restore puts back (z is left alone: bringing a note to the front is not a version). */
export const RESTORED = /** @type {const} */ (["text", "color", "x", "y", "w", "h"]);
const CONTEXT = 24; // characters of unchanged text shown around a text change

/**
 * @typedef {{kind: "created" | "restored" | "deleted" | "moved" | "resized" | "front"}
 *   | {kind: "text", before: string, removed: string, inserted: string, after: string}
 *   | {kind: "recoloured", from: string | null, to: string | null}} Part
 */

/**
 * What `change` did, compared with the note's previous logged state `prev` (null: none kept).
 * @param {object | null} prev the note right after the change before (same note)
 * @param {{op: string, note: object}} change
 * @returns {Part[]}
 */
export function describeChange(prev, change) {
  const note = change.note;
  if (change.op === "deleted") return [{ kind: "deleted" }];
  if (change.op === "created") return [{ kind: note.version > 1 ? "restored" : "created" }];
  if (prev === null) return [];
  /** @type {Part[]} */
  const parts = [];
  if ((prev.text ?? "") !== (note.text ?? "")) parts.push(textPart(prev.text ?? "", note.text ?? ""));
  if (prev.x !== note.x || prev.y !== note.y) parts.push({ kind: "moved" });
  if (prev.w !== note.w || prev.h !== note.h) parts.push({ kind: "resized" });
  if (prev.color !== note.color) parts.push({ kind: "recoloured", from: prev.color ?? null, to: note.color ?? null });
  if (prev.z !== note.z) parts.push({ kind: "front" });
  return parts;
}

/** The changed span of a text, with a little unchanged text around it. @returns {Part} */
function textPart(before, after) {
  const edit = smallestEdit(before, after);
  const start = Math.max(0, edit.at - CONTEXT);
  const end = edit.at + edit.remove;
  return {
    kind: "text",
    before: (start > 0 ? "…" : "") + before.slice(start, edit.at),
    removed: before.slice(edit.at, end),
    inserted: edit.insert,
    after: before.slice(end, end + CONTEXT) + (end + CONTEXT < before.length ? "…" : ""),
  };
}

/**
 * The fields that bring the note now (`current`) back to `version`; empty when they already agree.
 * @param {object} version a logged state of the note
 * @param {object} current the note as this page shows it
 * @returns {Record<string, unknown>}
 */
export function restoreFields(version, current) {
  /** @type {Record<string, unknown>} */
  const fields = {};
  for (const name of RESTORED) {
    const value = version[name];
    // null is a value too: no colour, or no place (the board places the note); text is never null
    if (value === undefined || (value === null && name === "text") || value === (current[name] ?? null)) continue;
    fields[name] = value;
  }
  return fields;
}
