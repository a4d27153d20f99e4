// Text edits for typing together (textsync.js), pure so that node tests drive them: the smallest edit between
// two texts (what a keystroke, a paste or a select-and-type changed), and where a caret goes when others'
// changes land before it.

/**
 * The smallest edit that turns `before` into `after`: the common prefix and suffix are kept.
 * @param {string} before @param {string} after
 * @returns {{at: number, remove: number, insert: string}}
 */
export function smallestEdit(before, after) {
  let start = 0;
  const short = Math.min(before.length, after.length);
  while (start < short && before[start] === after[start]) start++;
  let end = 0;
  while (end < short - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  return { at: start, remove: before.length - start - end, insert: after.slice(start, after.length - end) };
}

/**
 * Where a position goes when a remote change (a Yjs delta) lands before or on it.
 * @param {number} pos @param {{retain?: number, insert?: string | object, delete?: number}[]} delta
 */
export function movePosition(pos, delta) {
  let at = 0;
  let moved = pos;
  for (const op of delta) {
    if (op.retain !== undefined) at += op.retain;
    else if (op.insert !== undefined) {
      const n = typeof op.insert === "string" ? op.insert.length : 1;
      if (at < pos) moved += n; // typed before the caret: the caret moves with the text it follows
      at += n;
    } else if (op.delete !== undefined) {
      if (at < pos) moved -= Math.min(op.delete, pos - at);
    }
  }
  return moved;
}

/**
 * The typed edit (made on `startText`, the text the editor opened on) as an edit of the shared document's text
 * `doc`, which may differ: the page can open an editor on a version older or newer than the document's. What
 * the edit kept of `startText` (its unchanged start and end) is kept in `doc` when `doc` has it too, and
 * everything between is what was replaced (seen as a flake: "tab to mediscarde" opened, "tab to me" in the
 * document, all selected and retyped; cut at `doc`'s length, the old edit also deleted the document's last
 * letter). When `doc` does not start and end that way, the editor's text replaces the document's.
 * @param {{at: number, remove: number, insert: string}} typed
 * @param {string} startText @param {string} doc @param {string} value the editor's text
 */
export function onDocument(typed, startText, doc, value) {
  const kept = startText.length - typed.at - typed.remove; // the unchanged end of startText
  const head = startText.slice(0, typed.at);
  const tail = startText.slice(startText.length - kept);
  if (doc.length >= typed.at + kept && doc.startsWith(head) && doc.endsWith(tail)) {
    // Only typed in (nothing selected away): the document's text around the caret stays, whoever wrote it.
    const remove = typed.remove === 0 ? 0 : doc.length - typed.at - kept;
    return { at: typed.at, remove, insert: typed.insert };
  }
  return smallestEdit(doc, value);
}
