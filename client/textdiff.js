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
