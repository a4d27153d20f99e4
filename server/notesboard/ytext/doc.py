"""A note's text as a Yjs document: pure functions over the stored state (one compacted Yjs update).

Everything here is done on a fresh `pycrdt.Doc` loaded from the committed state, inside the write
transaction, so a refused update leaves nothing behind (the doc is simply dropped) and every process
computes from what the database holds.

- `initial_state`: the document made from a note that has only plain text. Deterministic (a fixed client
  id derived from the note id and version), so two processes that build it from the same note build the
  same bytes; it is persisted before any client sees it, so a rebuild can never hand out different items
  under the same ids (the trap of a fixed client id over a changing file).
- `apply_update`: a client's update, checked: it must decode, integrate completely (no struct waiting for
  something the server lacks), delete only what exists, and leave the text within `max_text`.
- `set_text`: the smallest edit (common prefix and suffix) that turns the merged text into a v1 text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pycrdt
from pycrdt import Doc, Text

from notesboard.contract.errors import BadRequest, TooLarge
from notesboard.ytext.varint import Reader

__all__ = ["EMPTY_UPDATE", "TEXT", "Applied", "apply_update", "common_affixes", "initial_state", "set_text", "text_of"]

TEXT = "text"  # the one root type: a Y.Text named "text"
EMPTY_UPDATE = b"\x00\x00"


@dataclass(frozen=True, slots=True)
class Applied:
    state: bytes  # the new compacted state (one update)
    text: str  # the merged text
    delta: bytes  # what changed, as an update (to broadcast); EMPTY_UPDATE when nothing did
    changed: bool  # the state changed (text or not)


def _load(state: bytes) -> tuple[Doc[Text], Text]:
    doc: Doc[Text] = Doc()
    text = doc.get(TEXT, type=Text)
    if state:
        doc.apply_update(state)
    return doc, text


def text_of(state: bytes) -> str:
    return str(_load(state)[1])


def initial_state(note_id: int, version: int, text: str) -> bytes:
    """The document of a note that had only plain text: the same bytes for the same (id, version, text)."""
    digest = hashlib.sha256(f"notesboard-ytext:{note_id}:{version}".encode()).digest()
    client_id = int.from_bytes(digest[:4], "big") & 0x7FFFFFFF or 1  # Yjs client ids are 32-bit
    doc: Doc[Text] = Doc(client_id=client_id)
    ytext = doc.get(TEXT, type=Text)
    if text:
        ytext += text
    return doc.get_update()


def _state_vector(doc: Doc[Text]) -> dict[int, int]:
    r = Reader(doc.get_state())
    return {r.uint(): r.uint() for _ in range(r.uint())}


def _check_integrated(update: bytes, doc: Doc[Text]) -> None:
    """After `update` was applied to `doc`: every struct landed and every delete names existing content."""
    rest = Reader(pycrdt.get_update(update, doc.get_state()))
    if rest.uint() != 0:
        raise BadRequest("update depends on changes the server does not have")
    clocks = _state_vector(doc)
    for _ in range(rest.uint()):
        client, ranges = rest.uint(), rest.uint()
        for _ in range(ranges):
            clock, length = rest.uint(), rest.uint()
            if clock + length > clocks.get(client, 0):
                raise BadRequest("update deletes past the end of the text")


def apply_update(state: bytes, update: bytes, max_text: int) -> Applied:
    """`update` applied to `state`; BadRequest (malformed, incomplete) or TooLarge (text over max_text)."""
    doc, text = _load(state)
    before = doc.get_state()
    if update and update != EMPTY_UPDATE:
        try:
            doc.apply_update(update)
            _check_integrated(update, doc)
        except (BadRequest, KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 pycrdt: ValueError (cannot decode), or a Rust panic (BaseException)
            raise BadRequest(f"malformed Yjs update: {str(exc)[:100]}") from None
    merged = str(text)
    if len(merged) > max_text:
        raise TooLarge(f"the merged text would be {len(merged)} characters; the limit is {max_text}")
    if "\x00" in merged:
        raise BadRequest("text must not contain U+0000 (NUL)")
    changed = doc.get_state() != before or _deleted_more(state, doc)
    delta = doc.get_update(before) if changed else EMPTY_UPDATE
    return Applied(doc.get_update() if changed else state, merged, delta, changed)


def _deleted_more(state: bytes, doc: Doc[Text]) -> bool:
    """A delete-only update does not move the state vector: compare the delete sets' encodings."""
    return pycrdt.get_update(doc.get_update(), b"\x00") != pycrdt.get_update(state, b"\x00") if state else True


def common_affixes(old: str, new: str) -> tuple[int, int]:
    """The lengths of the longest common prefix and (not overlapping it) suffix of two strings."""
    limit = min(len(old), len(new))
    start = 0
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[-1 - end] == new[-1 - end]:
        end += 1
    return start, end


def set_text(state: bytes, new: str) -> Applied:
    """The smallest Y edit from the merged text to `new` (made under a fresh random client id)."""
    doc, text = _load(state)
    old = str(text)
    if old == new:
        return Applied(state, old, EMPTY_UPDATE, False)
    before = doc.get_state()
    start, end = common_affixes(old, new)
    # pycrdt indexes Y.Text by UTF-8 bytes.
    at = len(old[:start].encode())
    gone = len(old[start : len(old) - end].encode())
    with doc.transaction():
        if gone:
            del text[at : at + gone]
        inserted = new[start : len(new) - end]
        if inserted:
            text.insert(at, inserted)
    return Applied(doc.get_update(), str(text), doc.get_update(before), True)
