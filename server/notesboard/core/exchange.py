"""Export and import of a whole board (pure: notes in, text out; a JSON export in, create commands out).

JSON is the lossless format that `import` reads back; Markdown (one bullet per note, grouped by colour) is
for reading in a README or a wiki; CSV is a row per note for spreadsheets. When the board's vote totals may be
seen (`votes`: a closed vote, or one with open tallies), every format carries each note's total: JSON a `votes`
field, CSV a last `votes` column, Markdown "(N votes)" with each group's notes ordered by their votes.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from typing import Any, Literal

from notesboard.contract.errors import BadRequest, TooLarge
from notesboard.contract.protocol import Note, encode
from notesboard.contract.validate import CreateCommand, create_command

__all__ = ["EXPORT_FIELDS", "FORMATS", "export_board", "parse_import"]

Format = Literal["json", "md", "csv"]
FORMATS: dict[str, tuple[str, str]] = {  # format -> (media type, file extension)
    "json": ("application/json", "json"),
    "md": ("text/markdown; charset=utf-8", "md"),
    "csv": ("text/csv; charset=utf-8", "csv"),
}
# `kind` came with sections: last, so that CSV columns stay where earlier exports had them.
EXPORT_FIELDS = (
    "id", "text", "color", "x", "y", "w", "h", "z", "author", "updated_by", "created_at", "updated_at", "kind",
)  # fmt: skip
EXPORT_KIND = "notesboard-export"
# The browser client's palette (client/constants.js), so that Markdown sections have readable names.
COLOR_NAMES = {
    "#fde68a": "Yellow",
    "#fdba74": "Orange",
    "#f9a8d4": "Pink",
    "#c4b5fd": "Purple",
    "#93c5fd": "Blue",
    "#86efac": "Green",
    "#e5e7eb": "Gray",
}


def export_board(
    board: str, notes: Sequence[Note], fmt: str, exported_at: str, votes: dict[int, int] | None = None
) -> str:
    """The live `notes` of `board` (ascending seq) as `fmt`; raises BadRequest for an unknown format.
    `votes`: every note's vote total, when they may be seen (None: no vote, or hidden tallies)."""
    if fmt == "json":
        rows: list[dict[str, Any]] = [{k: n[k] for k in EXPORT_FIELDS} for n in notes]  # type: ignore[literal-required]
        if votes is not None:
            for row in rows:
                if row["kind"] == "note":
                    row["votes"] = votes.get(row["id"], 0)
        return encode({"format": EXPORT_KIND, "version": 1, "board": board, "exported_at": exported_at, "notes": rows})
    if fmt == "md":
        return _markdown(board, notes, votes)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(EXPORT_FIELDS + (("votes",) if votes is not None else ()))
        for n in notes:
            cells: list[Any] = ["" if n[k] is None else n[k] for k in EXPORT_FIELDS]  # type: ignore[literal-required]
            if votes is not None:
                cells.append(votes.get(n["id"], 0) if n["kind"] == "note" else "")
            writer.writerow(cells)
        return out.getvalue()
    raise BadRequest(f"format must be one of {', '.join(FORMATS)}")


def section_of(note: Note, sections: Sequence[Note]) -> Note | None:
    """The section a note belongs to: the topmost (highest z, then newest) whose area holds the note's centre.
    A note without a place (the board places it) belongs to none."""
    if note["x"] is None or note["y"] is None:
        return None
    cx, cy = note["x"] + note["w"] / 2, note["y"] + note["h"] / 2
    best: Note | None = None
    for s in sections:
        if (
            s["x"] is None
            or s["y"] is None
            or not (s["x"] <= cx <= s["x"] + s["w"] and s["y"] <= cy <= s["y"] + s["h"])
        ):
            continue
        if best is None or (s["z"], s["seq"]) > (best["z"], best["seq"]):
            best = s
    return best


def _markdown(board: str, notes: Sequence[Note], votes: dict[int, int] | None) -> str:
    """Notes under their section's title when the board has sections, else under their colour's name; with
    vote totals, each group's notes are ordered by them (most first, ties in board order)."""
    sections = [n for n in notes if n["kind"] == "section"]
    groups: dict[str, list[Note]] = {}
    if sections:
        for s in sections:
            groups[s["text"].strip() or "(untitled section)"] = []
        for n in notes:
            if n["kind"] != "section":
                home = section_of(n, sections)
                title = (home["text"].strip() or "(untitled section)") if home else "Not in a section"
                groups.setdefault(title, []).append(n)
    for n in notes if not sections else ():
        color = (n["color"] or "").lower()
        title = COLOR_NAMES.get(color, color) if color else "No colour"
        groups.setdefault(title, []).append(n)
    lines = [f"# {board}", ""]
    if not notes:
        lines.append("_No notes._")
    for title, members in groups.items():
        lines += [f"## {title}", ""]
        if not members:
            lines += ["_No notes._", ""]
            continue
        if votes is not None:
            members = sorted(members, key=lambda n: -votes.get(n["id"], 0))
        for n in members:
            text = n["text"].strip() or "(empty)"
            first, *rest = text.splitlines()
            by = f" ({n['author']})" if n["author"] else ""
            if votes is not None:
                count = votes.get(n["id"], 0)
                by += f" ({count} vote{'' if count == 1 else 's'})"
            lines.append(f"- {first}{by}")
            lines.extend(f"  {line}" for line in rest)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _import_id(source: str, note: dict[str, Any]) -> str:
    """The same note of the same export always gets the same client_id, so a second import is a replay."""
    raw = encode([source, note.get("id"), note.get("text")])
    return "imp." + hashlib.sha256(raw.encode()).hexdigest()[:16]


def parse_import(body: Any, max_text: int, max_notes: int) -> list[CreateCommand]:
    """Validate a whole JSON export before anything is written: one bad note refuses the file."""
    if not isinstance(body, dict) or body.get("format") != EXPORT_KIND:
        raise BadRequest(f'expected a notesboard JSON export (an object with "format": "{EXPORT_KIND}")')
    notes = body.get("notes")
    if not isinstance(notes, list):
        raise BadRequest("notes: expected a list of notes")
    if len(notes) > max_notes:
        raise TooLarge(f"{len(notes)} notes; one import may create at most {max_notes}")
    source = body["board"] if isinstance(body.get("board"), str) else ""
    commands = []
    for i, raw in enumerate(notes):
        if not isinstance(raw, dict):
            raise BadRequest(f"notes.{i}: expected an object")
        fields = {
            k: raw[k] for k in ("text", "color", "x", "y", "w", "h", "z", "author", "kind") if raw.get(k) is not None
        }
        fields["client_id"] = _import_id(source, raw)
        try:
            commands.append(create_command(fields, max_text, allow_author=True))
        except (BadRequest, TooLarge) as exc:
            raise type(exc)(f"notes.{i}: {exc.message}") from None
    return commands
