"""Inside the write transaction: a note's text change made through its Yjs document (see domain.decide).

A Yjs update from `/y/...` is applied to the stored document; a v1 `text` (socket, REST) on a note that
has a document becomes the smallest edit from the merged text. Either way the note's plain `text` is set to
the merged text, and the new state is planned for storage. Pure: `ydocs` are the loaded states.
"""

from __future__ import annotations

from dataclasses import dataclass

from notesboard.contract.errors import NotesError
from notesboard.contract.model import Note, UpdateCommand, YUpdateCommand
from notesboard.ytext.doc import apply_update, initial_state, set_text

__all__ = ["Merged", "merge_text"]


@dataclass(frozen=True, slots=True)
class Merged:
    text: str
    state: bytes
    changed: bool


def merge_text(
    found: Note, cmd: UpdateCommand, ydocs: dict[int, bytes], planned: dict[int, bytes]
) -> Merged | NotesError:
    """The merged text after `cmd`; `ydocs` (the batch's view) and `planned` (what to store) are updated."""
    state = ydocs.get(cmd.id)
    fresh = state is None
    if state is None:  # the first editor of a note that has only plain text
        state = initial_state(found["id"], found["version"], found["text"])
    try:
        if isinstance(cmd, YUpdateCommand):
            applied = apply_update(state, cmd.update, cmd.max_text)
        else:
            applied = set_text(state, cmd.changes["text"])
    except NotesError as exc:
        return type(exc)(exc.message, cmd.client_id)
    if applied.changed or fresh:
        ydocs[cmd.id] = planned[cmd.id] = applied.state
    return Merged(applied.text, applied.state, applied.changed)
