"""client/contract.js is generated from contract/fields.py: the page checks a note as the server does."""

from __future__ import annotations

import re

from notesboard.cli.jscontract import render
from notesboard.contract import fields
from tests.support import ROOT


def test_the_committed_file_is_the_generated_one() -> None:
    committed = (ROOT / "client" / "contract.js").read_text()
    assert committed == render(), "client/contract.js is stale: run `make docs`"


def test_the_patterns_mean_the_same_in_both_languages() -> None:
    """The JavaScript literals carry the Python patterns unchanged, and those accept and refuse alike."""
    text = render()
    for name, pattern in (
        ("BOARD_RE", fields.BOARD_PATTERN),
        ("CLIENT_ID_RE", fields.CLIENT_ID_PATTERN),
        ("COLOR_RE", fields.COLOR_PATTERN),
    ):
        assert f"export const {name} = /{pattern}/;" in text
    assert re.fullmatch(fields.BOARD_PATTERN, "team-1") and not re.fullmatch(fields.BOARD_PATTERN, "-team")
    assert fields.CLIENT_ID_RE.fullmatch("a" * 64) and not fields.CLIENT_ID_RE.fullmatch("a" * 65)
    assert "export const MAX_TEXT = 10000;" in text and "export const SIZE_MAX = 4000;" in text
