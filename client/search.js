// The search box's matcher (pure): which notes match what the user typed.
//
// Words are matched independently (all must appear), case- and accent-insensitive, in the note's text
// and author names. An empty query matches everything (nothing is dimmed).

/** Lower case without accents: "Crème" -> "creme". @param {string} s */
export function fold(s) {
  return String(s ?? "")
    .normalize("NFD")
    .replace(/\p{Diacritic}/gu, "")
    .toLowerCase();
}

/**
 * A predicate for a query, or null when the query is empty (no filter).
 * @param {string} query
 * @returns {((note: {text?: string, author?: string | null, updated_by?: string | null}) => boolean) | null}
 */
export function matcher(query) {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return null;
  return (note) => {
    const hay = fold(`${note.text ?? ""}\n${note.author ?? ""}\n${note.updated_by ?? ""}`);
    return words.every((w) => hay.includes(w));
  };
}
