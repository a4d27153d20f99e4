"""`client/contract.js`: the note's patterns and limits for the browser client, generated from
`contract/fields.py` (and the defaults of the settings that are limits), so that the page and the server
check a note by one description. `make docs` writes it; tests/unit/test_jscontract.py fails when it differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from notesboard.contract import fields
from notesboard.runtime.config import Settings

__all__ = ["render"]

HEADER = "// Generated from server/notesboard/contract/fields.py by `make docs`: do not edit (a test checks it)."


def _regex(pattern: str) -> str:
    """A Python pattern of `fields` as a JavaScript regex literal (they use the syntax both read alike)."""
    if "/" in pattern or "(?" in pattern:
        raise ValueError(f"pattern needs escaping for JavaScript: {pattern}")
    return f"/{pattern}/"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render() -> str:
    max_text = Settings.model_fields["max_text"].default
    lines = [
        HEADER,
        "",
        f"export const BOARD_RE = {_regex(fields.BOARD_PATTERN)};",
        f"export const CLIENT_ID_RE = {_regex(fields.CLIENT_ID_PATTERN)};",
        f"export const COLOR_RE = {_regex(fields.COLOR_PATTERN)};",
        f"export const MAX_NAME = {fields.NAME_MAX}; // a display name, in characters",
        f"export const MAX_TEXT = {max_text}; // the server's default max_text; longer text is refused (too_large)",
        f"export const COORD_LIMIT = {_number(fields.COORD_LIMIT)}; // |x| and |y| of a note",
        f"export const SIZE_MIN = {_number(fields.SIZE_MIN)}; // a note's w and h",
        f"export const SIZE_MAX = {_number(fields.SIZE_MAX)};",
        f"export const Z_LIMIT = {_number(fields.Z_LIMIT)}; // |z|, the stacking order",
        f"export const DEFAULT_W = {_number(fields.DEFAULT_W)};",
        f"export const DEFAULT_H = {_number(fields.DEFAULT_H)};",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(render())
    else:
        sys.stdout.write(render())
