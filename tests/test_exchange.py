"""Export formats and import validation, in-process (pure functions of notesboard.core.exchange)."""

from __future__ import annotations

import orjson
import pytest

from notesboard.contract.errors import BadRequest, TooLarge
from notesboard.contract.protocol import Note
from notesboard.core.exchange import export_board, parse_import


def note(i: int, text: str, **fields: object) -> Note:
    base: Note = {
        "id": i,
        "board": "b",
        "text": text,
        "author": None,
        "color": None,
        "x": None,
        "y": None,
        "w": 208.0,
        "h": 150.0,
        "z": 0,
        "version": 1,
        "seq": i,
        "created_at": "2026-12-01T00:00:00.000Z",
        "updated_at": "2026-12-01T00:00:00.000Z",
        "deleted": False,
        "updated_by": None,
        "kind": "note",
    }
    return {**base, **fields}  # type: ignore[typeddict-item]


def test_json_export_round_trips_through_import() -> None:
    notes = [note(1, "a", color="#fde68a", x=1.5, z=3, author="ann"), note(2, "b\nc", w=300.0)]
    dump = orjson.loads(export_board("b", notes, "json", "now"))
    commands = parse_import(dump, 10_000, 100)
    assert [(c.text, c.color, c.x, c.z, c.w, c.author) for c in commands] == [
        ("a", "#fde68a", 1.5, 3, 208.0, "ann"),
        ("b\nc", None, None, 0, 300.0, None),
    ]
    again = parse_import(dump, 10_000, 100)
    assert [c.client_id for c in commands] == [c.client_id for c in again]  # a second import replays
    assert len({c.client_id for c in commands}) == 2


def test_markdown_groups_by_colour_and_indents_continuation_lines() -> None:
    md = export_board("team", [note(1, "x", color="#FDE68A"), note(2, "one\ntwo", author="bo"), note(3, " ")], "md", "")
    assert md == "# team\n\n## Yellow\n\n- x\n\n## No colour\n\n- one (bo)\n  two\n- (empty)\n"


def test_csv_quotes_commas_quotes_and_newlines() -> None:
    out = export_board("b", [note(1, 'a, "b"\nc')], "csv", "")
    assert out.splitlines()[0].startswith("id,text,color,x,y,w,h,z,author")
    assert '"a, ""b""\nc"' in out


@pytest.mark.parametrize(
    ("body", "error", "start"),
    [
        ([], BadRequest, "expected a notesboard JSON export"),
        ({"format": "other"}, BadRequest, "expected a notesboard JSON export"),
        ({"format": "notesboard-export", "notes": {}}, BadRequest, "notes: expected a list"),
        ({"format": "notesboard-export", "notes": [{"text": "ok"}, 3]}, BadRequest, "notes.1: expected an object"),
        ({"format": "notesboard-export", "notes": [{"text": 5}]}, BadRequest, "notes.0: text"),
        ({"format": "notesboard-export", "notes": [{"text": "a", "w": 1}]}, BadRequest, "notes.0: w"),
        ({"format": "notesboard-export", "notes": [{"text": "y" * 11}]}, TooLarge, "notes.0: text is 11"),
        ({"format": "notesboard-export", "notes": [{"text": ""}] * 6}, TooLarge, "6 notes"),
    ],
)
def test_import_refuses_a_bad_file_whole(body: object, error: type[Exception], start: str) -> None:
    with pytest.raises(error) as info:
        parse_import(body, 10, 5)
    assert str(info.value).startswith(start)


def test_unknown_export_format() -> None:
    with pytest.raises(BadRequest):
        export_board("b", [], "pdf", "")
