"""ytext.doc and ytext.wire, in-process: building, applying and diffing a note's Yjs document; the frames."""

from __future__ import annotations

import pytest
from pycrdt import Doc, Text

from notesboard.contract.errors import BadRequest, TooLarge
from notesboard.ytext import wire
from notesboard.ytext.doc import apply_update, common_affixes, initial_state, set_text, text_of


def _client(state: bytes) -> tuple[Doc[Text], Text]:
    doc: Doc[Text] = Doc()
    doc.apply_update(state)
    return doc, doc.get("text", type=Text)


def _edit(doc: Doc[Text], change: object) -> bytes:
    before = doc.get_state()
    text = doc.get("text", type=Text)
    assert callable(change)
    change(text)
    return doc.get_update(before)


def test_initial_state_is_deterministic_and_differs_per_version() -> None:
    assert initial_state(7, 3, "héllo 😀") == initial_state(7, 3, "héllo 😀")
    assert initial_state(7, 3, "x") != initial_state(7, 4, "x")
    assert text_of(initial_state(7, 3, "héllo 😀")) == "héllo 😀"


def test_two_clients_of_one_rebuilt_document_do_not_duplicate() -> None:
    """Both clients got the same initial document: merging their copies and their edits keeps one text."""
    base = initial_state(1, 1, "abc")
    a, _ = _client(base)
    b, _ = _client(base)
    ua = _edit(a, lambda t: t.insert(3, "X"))
    ub = _edit(b, lambda t: t.insert(0, "Y"))
    state = apply_update(base, a.get_update(), 100).state  # a reconnects with its whole copy
    state = apply_update(state, b.get_update(), 100).state
    assert text_of(state) == "YabcX"
    assert not apply_update(state, ua, 100).changed and not apply_update(state, ub, 100).changed


def test_set_text_is_the_smallest_edit_and_keeps_concurrent_typing() -> None:
    base = initial_state(1, 1, "hello world")
    editor, text = _client(base)
    typed = _edit(editor, lambda t: t.insert(len("hello world"), "!"))  # typed while a v1 client replaced a word
    v1 = set_text(base, "hello brave world")
    merged = apply_update(v1.state, typed, 100)
    assert merged.text == "hello brave world!"
    editor.apply_update(v1.delta)
    assert str(text) == "hello brave world!"
    assert common_affixes("aXb", "aYb") == (1, 1) and common_affixes("aa", "aaa") == (2, 0)
    assert set_text(base, "😀 hello world é").text == "😀 hello world é"  # pycrdt counts UTF-8 bytes


@pytest.mark.parametrize(
    "update",
    [b"\x01\x02", b"\xff\xff\xff", b"\x00\x01\x05\x01\x00\x09", b"\x01\x01\x09\x05\x84\x09\x00\x01Z\x00"],
    ids=["truncated", "garbage", "delete-past-end", "depends-on-missing"],
)
def test_bad_updates_are_refused_whole(update: bytes) -> None:
    base = initial_state(1, 1, "abc")
    with pytest.raises(BadRequest):
        apply_update(base, update, 100)


def test_an_update_past_max_text_is_refused() -> None:
    base = initial_state(1, 1, "abc")
    doc, _ = _client(base)
    update = _edit(doc, lambda t: t.insert(0, "x" * 8))
    assert apply_update(base, update, 11).text == "x" * 8 + "abc"
    with pytest.raises(TooLarge):
        apply_update(base, update, 10)


def test_wire_round_trip_and_malformed_frames() -> None:
    assert wire.parse(wire.sync_step1(b"\x00")) == wire.Message("step1", b"\x00")
    assert wire.parse(wire.sync_step2(b"\x00\x00")) == wire.Message("step2", b"\x00\x00")
    assert wire.parse(wire.sync_update(b"ab")) == wire.Message("update", b"ab")
    assert wire.parse(wire.awareness(b"xyz")) == wire.Message("awareness", b"xyz")
    for bad in [b"", b"\x00", b"\x00\x07\x00", b"\x00\x02\x05ab", b"\x09", b"\x00\x02\x01ab", b"\x80"]:
        with pytest.raises(BadRequest):
            wire.parse(bad)
