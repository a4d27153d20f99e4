"""Private writing (protocol-collab.md "Board session", docs/protocol.md "Private writing"): while a board's
writing is private, a note written then is its writer's alone. Its text reaches nobody else, by any path:
others get the note with `"hidden": true` and an empty text (they see that someone writes, and where). The
reveal (writing switched back to open) makes every such note everyone's, as ordinary `updated` events.

Who a writer is: the same key as a voter (`core/voters.py`). The rules applied in the write transaction
(`domain.decide` calls `writing_changed` and `check_text`); the views (`shown`, `blank`) wherever a note leaves the
server: socket events (split frames), snapshots, REST reads and exports, the history's log, `/y/`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from notesboard.contract.errors import Forbidden, NotesError
from notesboard.contract.model import Note, Session, WriteResult
from notesboard.core.batch import Loaded, Plan

__all__ = ["NOBODY", "blank", "check_text", "own", "shown", "writing_changed"]

NOBODY = "nobody"  # the owner of a note written without a key (REST without a token subject): revealed only


def blank(note: Note) -> Note:
    """The note as anyone but its writer sees it while private: where and who, not what."""
    return {**note, "text": "", "hidden": True}


def own(note: Note) -> Note:
    """The note as its writer sees it while private: all of it, marked `private` (nobody else sees its text)."""
    return {**note, "private": True}


def shown(notes: list[Note], private: Mapping[int, str], reader: str | None) -> list[Note]:
    """`notes` as `reader` may see them: others' private notes blanked, the reader's own marked private (the
    same list when none is private: the common case costs nothing)."""
    if not private:
        return notes
    out: list[Note] = []
    for n in notes:
        owner = private.get(n["id"])
        if owner is None:
            out.append(n)
        elif reader is not None and owner == reader:
            out.append(own(n))
        else:
            out.append(blank(n))
    return out


def check_text(note_id: int, owner: str | None, writer: str | None, client_id: str | None) -> NotesError | None:
    """Only a private note's writer may change its text before the reveal."""
    if owner is not None and writer != owner:
        return Forbidden(f"note {note_id} is private until the reveal: only its writer may change its text", client_id)
    return None


def _seq(note: Note) -> int:
    return note["seq"]


def writing_changed(
    board: str,
    before: Session,
    after: Session,
    loaded: Loaded,
    plan: Plan,
    change: Callable[[Note, str | None], Note],
    author: str | None,
) -> list[WriteResult]:
    """A session change that turns private writing on (later creates are private) or off (the reveal);
    returns the reveal's results in seq order."""
    if (before["writing"] == "private") == (after["writing"] == "private"):
        return []
    turned_on = after["writing"] == "private"
    plan.private_flags[board] = turned_on
    if turned_on:
        loaded.private_boards.add(board)
        return []
    # The reveal: every private note of the board becomes everyone's, a live one as an `updated` change (the
    # board's next seqs, by `change`), a deleted one losing its text (it was never shared).
    loaded.private_boards.discard(board)
    plan.private_cleared.append(board)
    plan.private_new = [p for p in plan.private_new if p[1] != board]
    notes, private, dirty = loaded.notes, loaded.private, plan.dirty
    revealed: list[WriteResult] = []
    for note in sorted((n for i, n in notes.items() if i in private and n["board"] == board), key=_seq):
        del private[note["id"]]
        if note["deleted"]:
            notes[note["id"]] = dirty[note["id"]] = {**note, "text": ""}
            continue
        changed = change(note, author)
        notes[note["id"]] = dirty[note["id"]] = changed
        revealed.append(WriteResult(changed, changed["seq"], "updated"))
    return revealed
