"""The note rules, as plain functions over rows the store loaded: what a batch of changes does.

The writer commits a batch in one transaction. Inside it the store asks `needs()` what to load (boards,
the notes changed, earlier creates by client_id), asks `boards_to_make()` which new boards the cap allows,
loads them into `Loaded`, and hands them to `decide()`, which applies the rules in batch order:

- create: refused (forbidden) on a board the cap kept out; a client_id seen before on the board replays the
  first create's result (idempotent, no new seq); otherwise a new note with the board's next seq;
- update / delete: not found (unknown id, another board, a tombstone), conflict (a `version` that is not
  the current one); otherwise version + 1 and the board's next seq;
- restore (update with deleted:false): a tombstone comes back live, announced as "created"; alone on a live
  note it is a conflict;
- board delete: every live note becomes a tombstone with its text cleared, each with its own seq;
- text through a note's Yjs document (ytext/merge.py): a Yjs update (`YUpdateCommand`) is applied to it, and a
  v1 `text` on a note that has one becomes the smallest edit; the note's text is the merged text. A Yjs
  update with `announce=False` commits quietly (text only, no version, seq or event) and leaves the note
  pending until an announce; a deleted note loses its document;
- session (a board's vote, writing mode and timer, `core/session.py`): a version check, then the board's next
  seq like a note change, so sessions and notes share one seq order; the board is made if absent (the cap);
  opening a vote anew or removing it drops the board's votes (`core/votes.py`);
- private writing (`core/privacy.py`): on a board whose writing is private a create is its writer's alone
  (`Plan.private_new`, results carry the `owner`), only that writer may change its text (`forbidden`), and
  the session change back to open reveals them all (each the board's next seq);
- vote: the rules of `core/votes.py` (an open vote, a live note, the budget), then the board's next seq; a
  client_id seen before on the board replays the first vote's result; a deleted note's votes go with it;
- purge (a delete with `purge`): the tombstone's text is cleared and the note's logged texts are blanked
  (`Plan.purged`); on a note that is already a tombstone it changes nothing else (no seq, no event).

The result (`Plan`) says what to persist and each change's outcome; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from notesboard.contract.errors import Conflict, Forbidden, NotesError, NotFound
from notesboard.contract.model import (
    BoardCleared,
    CreateCommand,
    DeleteBoardCommand,
    DeleteCommand,
    Note,
    Op,
    SessionCommand,
    SessionResult,
    UpdateCommand,
    VoteCommand,
    WriteOp,
    WriteResult,
    YUpdateCommand,
)
from notesboard.contract.session import EMPTY_SESSION, parse_instant
from notesboard.core.batch import Loaded, Needs, Plan
from notesboard.core.privacy import NOBODY, check_text, writing_changed
from notesboard.core.session import apply_session
from notesboard.core.votes import cast_vote, drop_votes, new_round, totals, visible
from notesboard.ytext.merge import merge_text

__all__ = ["Loaded", "Needs", "Plan", "boards_to_make", "decide", "needs"]


def needs(ops: Sequence[WriteOp]) -> Needs:
    creates = [(op.board, op.command) for op in ops if isinstance(op.command, CreateCommand)]
    changed = {op.board for op in ops if isinstance(op.command, SessionCommand)}
    votes = [(op.board, op.command) for op in ops if isinstance(op.command, VoteCommand)]
    tallies = sorted(changed | {board for board, _ in votes})
    return Needs(
        boards=sorted({op.board for op in ops}),
        created_on=sorted({board for board, _ in creates} | changed),
        ids=sorted(
            {op.command.id for op in ops if isinstance(op.command, UpdateCommand | DeleteCommand | VoteCommand)}
        ),
        cleared=sorted({op.board for op in ops if isinstance(op.command, DeleteBoardCommand)}),
        client_ids=sorted({(board, cmd.client_id) for board, cmd in creates if cmd.client_id}),
        creates=len(creates),
        text_ids=sorted(
            {
                op.command.id
                for op in ops
                if isinstance(op.command, YUpdateCommand)
                or (isinstance(op.command, UpdateCommand) and "text" in op.command.changes)
            }
        ),
        sessions=tallies,
        tallies=tallies,
        vote_ids=sorted({(board, cmd.client_id) for board, cmd in votes if cmd.client_id}),
    )


def boards_to_make(wanted: Sequence[str], existing: int, max_boards: int) -> list[str]:
    """The new boards (sorted) that fit under the cap; creates on the others are refused by `decide`."""
    return list(wanted)[: max(0, max_boards - existing)]


def decide(ops: Sequence[WriteOp], loaded: Loaded, now: str, *, max_boards: int) -> Plan:
    """Apply the rules to `ops` in order; `loaded` is updated as the batch goes (later ops see earlier ones)."""
    seqs, live, current, known = loaded.seqs, loaded.live, loaded.notes, loaded.known
    fresh_ids = iter(loaded.fresh_ids)
    plan = Plan()
    results = plan.results
    touched: set[str] = set()

    def next_seq(board: str) -> int:
        seq = seqs[board] = seqs[board] + 1
        touched.add(board)
        return seq

    def change(found: Note, author: str | None) -> Note:
        seq = next_seq(found["board"])
        return {**found, "version": found["version"] + 1, "seq": seq, "updated_at": now, "updated_by": author}

    for op in ops:
        cmd = op.command
        board = op.board
        author = cmd.author if cmd.author is not None else op.author
        if isinstance(cmd, CreateCommand):
            if board not in seqs:
                results.append(Forbidden(f"this server holds its limit of {max_boards} boards", cmd.client_id))
                continue
            key = (board, cmd.client_id) if cmd.client_id else None
            if key is not None and key in known:
                first = known[key]
                results.append(WriteResult(first.note, first.seq, None))
                continue
            seq = next_seq(board)
            live[board] += 1
            note: Note = {
                "id": next(fresh_ids),
                "board": board,
                "text": cmd.text,
                "author": author,
                "color": cmd.color,
                "x": cmd.x,
                "y": cmd.y,
                "w": cmd.w,
                "h": cmd.h,
                "z": cmd.z,
                "version": 1,
                "seq": seq,
                "created_at": now,
                "updated_at": now,
                "deleted": False,
                "updated_by": author,
                "kind": cmd.kind,
            }
            plan.inserts.append((note, cmd.client_id))
            current[note["id"]] = note
            owner = None
            if board in loaded.private_boards:
                owner = loaded.private[note["id"]] = op.owner or NOBODY
                plan.private_new.append((note["id"], board, owner))
            result = WriteResult(note, seq, "created", owner=owner)
            if key is not None:
                known[key] = result  # a second create with this client_id in the same batch replays it
            results.append(result)
            continue

        if isinstance(cmd, SessionCommand):
            if board not in seqs:
                results.append(Forbidden(f"this server holds its limit of {max_boards} boards", cmd.client_id))
                continue
            stored = loaded.sessions.get(board, EMPTY_SESSION)
            decided = apply_session(cmd, stored, parse_instant(now))
            if isinstance(decided, NotesError):
                results.append(decided)
                continue
            seq = next_seq(board)
            revealed = writing_changed(board, stored, decided, loaded, plan, change, author)
            tallies = loaded.tallies.setdefault(board, {})
            if new_round(stored["vote"], decided["vote"]):
                tallies.clear()
                plan.votes_cleared.append(board)
                plan.votes = [v for v in plan.votes if v[0] != board]
            loaded.sessions[board] = decided
            plan.sessions[board] = (decided, seq)
            shown = totals(tallies) if visible(decided["vote"]) else None
            results.append(SessionResult(board, seq, decided, shown, revealed))
            continue

        if isinstance(cmd, VoteCommand):
            results.append(cast_vote(board, cmd, loaded, plan, next_seq))
            continue

        if isinstance(cmd, DeleteBoardCommand):
            gone: list[WriteResult] = []
            for old in sorted(current.values(), key=lambda n: n["seq"]):
                if old["board"] == board and not old["deleted"]:
                    tomb = change(old, author)
                    tomb["deleted"] = True
                    tomb["text"] = ""  # a deleted board leaves tombstones, not its content
                    current[old["id"]] = plan.dirty[old["id"]] = tomb
                    _drop_ydoc(old["id"], loaded, plan)
                    drop_votes(old, loaded, plan)
                    live[board] -= 1
                    gone.append(WriteResult(tomb, tomb["seq"], "deleted"))
            if board in seqs and board not in plan.cleared:
                plan.cleared.append(board)
            results.append(BoardCleared(board, seqs.get(board, 0), gone))
            continue

        found = current.get(cmd.id)
        restoring = isinstance(cmd, UpdateCommand) and cmd.restore
        purging = isinstance(cmd, DeleteCommand) and cmd.purge
        if found is None or found["board"] != board or (found["deleted"] and not (restoring or purging)):
            results.append(NotFound(f"note {cmd.id} not found on board {board}", cmd.client_id))
            continue
        if cmd.version is not None and cmd.version != found["version"]:
            results.append(
                Conflict(f"note {cmd.id} is at version {found['version']}, not {cmd.version}", cmd.client_id)
            )
            continue
        ystate: bytes | None = None
        owner = loaded.private.get(cmd.id)
        writes_text = (isinstance(cmd, YUpdateCommand) and bool(cmd.update)) or (
            isinstance(cmd, UpdateCommand) and "text" in cmd.changes
        )
        refused = check_text(cmd.id, owner, op.owner, cmd.client_id) if writes_text else None
        if refused is not None:
            results.append(refused)
            continue
        if isinstance(cmd, UpdateCommand):
            if restoring and not found["deleted"] and not cmd.changes:
                results.append(Conflict(f"note {cmd.id} is not deleted", cmd.client_id))
                continue
            op_name: Op = "updated"
            changes = cmd.changes
            if isinstance(cmd, YUpdateCommand) or ("text" in changes and cmd.id in loaded.ydocs):
                merged = merge_text(found, cmd, loaded.ydocs, plan.ydocs)
                if isinstance(merged, NotesError):
                    results.append(merged)
                    continue
                ystate = merged.state
                if isinstance(cmd, YUpdateCommand):
                    pending = cmd.id in loaded.ypending
                    if not merged.changed and not (cmd.announce and pending):  # nothing new: no seq, no event
                        results.append(WriteResult(found, found["seq"], None, ystate))
                        continue
                    if not cmd.announce:  # a quiet commit: the text now; version, seq and event at the announce
                        quiet: Note = {**found, "text": merged.text}
                        current[cmd.id] = plan.dirty[cmd.id] = quiet
                        loaded.ypending.add(cmd.id)
                        results.append(WriteResult(quiet, found["seq"], None, ystate))
                        continue
                loaded.ypending.discard(cmd.id)
                plan.ydocs[cmd.id] = merged.state
                changes = {**changes, "text": merged.text}
            changed = change(found, author)
            changed.update(changes)  # type: ignore[typeddict-item]
            if found["deleted"]:  # a restore: the note is back, announced as created for every client
                changed["deleted"] = False
                live[board] += 1
                op_name = "created"
        elif found["deleted"]:  # a purge of a tombstone: only its texts go
            current[cmd.id] = plan.dirty[cmd.id] = {**found, "text": ""}
            plan.purged.append(cmd.id)
            results.append(WriteResult(current[cmd.id], found["seq"], None))
            continue
        else:
            changed = change(found, author)
            changed["deleted"] = True
            live[board] -= 1
            op_name = "deleted"
            _drop_ydoc(cmd.id, loaded, plan)
            drop_votes(found, loaded, plan)
            if purging:
                changed["text"] = ""
                plan.purged.append(cmd.id)
        current[cmd.id] = plan.dirty[cmd.id] = changed
        results.append(WriteResult(changed, changed["seq"], op_name, ystate, owner))

    plan.boards = [(b, seqs[b], live[b]) for b in sorted(touched)]
    plan.ypending = {i for i in plan.ydocs if i in loaded.ypending}
    plan.cleared.sort()
    return plan


def _drop_ydoc(note_id: int, loaded: Loaded, plan: Plan) -> None:
    """A deleted note keeps no Yjs document (nor its text); a restore starts a new one from the plain text."""
    loaded.ydocs.pop(note_id, None)
    plan.ydocs.pop(note_id, None)
    plan.ydocs_dropped.add(note_id)
