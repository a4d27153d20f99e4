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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from notesboard.contract.errors import BadRequest, Conflict, Forbidden, NotesError, NotFound
from notesboard.contract.model import (
    BoardCleared,
    CreateCommand,
    DeleteBoardCommand,
    DeleteCommand,
    Note,
    Op,
    Outcome,
    Session,
    SessionCommand,
    SessionResult,
    UpdateCommand,
    VoteCommand,
    VoteResult,
    WriteOp,
    WriteResult,
    YUpdateCommand,
)
from notesboard.contract.session import EMPTY_SESSION, parse_instant
from notesboard.core.privacy import NOBODY, check_text, switch
from notesboard.core.session import apply_session
from notesboard.core.votes import Tallies, apply_vote, new_round, totals, visible
from notesboard.ytext.merge import merge_text

__all__ = ["Loaded", "Needs", "Plan", "boards_to_make", "decide", "needs"]


@dataclass(slots=True, frozen=True)
class Needs:
    """What a batch reads before deciding."""

    boards: list[str]  # every board the batch touches, sorted (their rows are locked)
    created_on: list[str]  # boards with a create: made if absent (within the cap)
    ids: list[int]  # notes updated, deleted or restored
    cleared: list[str]  # boards deleted: their live notes are read
    client_ids: list[tuple[str, str]]  # (board, client_id) of creates: an earlier create with one is a replay
    creates: int  # fresh note ids to reserve
    text_ids: list[int] = field(default_factory=list)  # notes whose text changes: their Yjs documents are read
    sessions: list[str] = field(default_factory=list)  # boards whose session or votes change: sessions are read
    tallies: list[str] = field(default_factory=list)  # boards with votes or a session change: their tallies
    vote_ids: list[tuple[str, str]] = field(default_factory=list)  # (board, client_id) of votes: replays
    # (the session boards are also the ones whose private notes are read, if private: a reveal may come)


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


@dataclass(slots=True)
class Loaded:
    """The rows a batch depends on, as the store read them inside the write transaction."""

    seqs: dict[str, int]  # board -> seq, for the boards that exist (or were just made)
    live: dict[str, int]  # board -> live notes
    notes: dict[int, Note] = field(default_factory=dict)  # by id: targets, and live notes of cleared boards
    known: dict[tuple[str, str], WriteResult] = field(default_factory=dict)  # (board, client_id) -> first create
    fresh_ids: list[int] = field(default_factory=list)  # one per create, ascending
    ydocs: dict[int, bytes] = field(default_factory=dict)  # note id -> its Yjs document (notes that have one)
    ypending: set[int] = field(default_factory=set)  # notes whose latest Yjs commits await their announce
    sessions: dict[str, Session] = field(default_factory=dict)  # board -> its stored session (absent: none yet)
    tallies: dict[str, Tallies] = field(default_factory=dict)  # board -> its current vote's tallies (if read)
    votes: dict[tuple[str, str], tuple[int, str, int, int]] = field(default_factory=dict)
    # ^ (board, client_id) -> (note id, voter, delta, seq) of a vote made before: a replay answers it again
    private_boards: set[str] = field(default_factory=set)  # boards whose writing is private now
    private: dict[int, str] = field(default_factory=dict)  # private note id -> its writer (of the notes read)


@dataclass(slots=True)
class Plan:
    """What to persist, and each op's outcome in order."""

    results: list[Outcome | NotesError] = field(default_factory=list)
    inserts: list[tuple[Note, str | None]] = field(default_factory=list)  # new notes and their client_id
    dirty: dict[int, Note] = field(default_factory=dict)  # notes changed (by id)
    boards: list[tuple[str, int, int]] = field(default_factory=list)  # (board, seq, live) of touched boards
    cleared: list[str] = field(default_factory=list)  # boards deleted (their deleted_at is set)
    ydocs: dict[int, bytes] = field(default_factory=dict)  # Yjs documents to store (note id -> state)
    ydocs_dropped: set[int] = field(default_factory=set)  # notes deleted: their Yjs documents go (before ydocs)
    ypending: set[int] = field(default_factory=set)  # of `ydocs`, those stored with their announce pending
    purged: list[int] = field(default_factory=list)  # notes whose texts the history forgets
    sessions: dict[str, tuple[Session, int]] = field(default_factory=dict)  # board -> (new session, its seq)
    votes: list[tuple[str, int, int, str, int, str | None]] = field(default_factory=list)
    # ^ votes to insert: (board, seq, note id, voter, delta, client_id)
    votes_cleared: list[str] = field(default_factory=list)  # boards whose votes go (a new vote, or none)
    votes_dropped: set[int] = field(default_factory=set)  # deleted notes: their votes go
    private_new: list[tuple[int, str, str]] = field(default_factory=list)  # (note id, board, owner) made private
    private_cleared: list[str] = field(default_factory=list)  # boards revealed: their private rows go
    private_flags: dict[str, bool] = field(default_factory=dict)  # boards whose writing turned private (or not)


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
            revealed = _writing(board, stored, decided, loaded, plan, change, author)
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
            results.append(_vote(board, cmd, loaded, plan, next_seq))
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
                    _drop_votes(old, loaded, plan)
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
            _drop_votes(found, loaded, plan)
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


def _drop_votes(note: Note, loaded: Loaded, plan: Plan) -> None:
    """A deleted note's votes go back to their voters (and do not come back with a restore)."""
    plan.votes_dropped.add(note["id"])
    tallies = loaded.tallies.get(note["board"])
    if tallies:
        for key in [k for k in tallies if k[0] == note["id"]]:
            del tallies[key]


def _vote(
    board: str, cmd: VoteCommand, loaded: Loaded, plan: Plan, next_seq: Callable[[str], int]
) -> Outcome | NotesError:
    """One vote: a replay of its client_id, or the rules of core/votes.py and the board's next seq."""
    tallies = loaded.tallies.setdefault(board, {})
    session = loaded.sessions.get(board)
    if cmd.client_id and (board, cmd.client_id) in loaded.votes:
        note_id, voter, delta, seq = loaded.votes[(board, cmd.client_id)]
        if voter != cmd.voter or note_id != cmd.id or delta != cmd.delta:
            return BadRequest(f"client_id {cmd.client_id} was used for another vote", cmd.client_id)
        vote = session["vote"] if session is not None else None
        budget, hidden = (vote["budget"], vote["hidden"]) if vote is not None else (0, True)
        used = sum(n for (_, v), n in tallies.items() if v == voter)
        total = sum(n for (i, _), n in tallies.items() if i == note_id)
        mine = tallies.get((note_id, voter), 0)
        return VoteResult(board, seq, note_id, voter, delta, total, mine, max(0, budget - used), hidden, replay=True)
    if board not in loaded.seqs:  # a board that was never written has no session, so no vote
        return NotFound(f"no vote is open on board {board}", cmd.client_id)
    decided = apply_vote(board, cmd, session, loaded.notes.get(cmd.id), tallies, loaded.seqs[board] + 1)
    if isinstance(decided, VoteResult):
        next_seq(board)
        plan.votes.append((board, decided.seq, cmd.id, cmd.voter, cmd.delta, cmd.client_id))
        if cmd.client_id:
            loaded.votes[(board, cmd.client_id)] = (cmd.id, cmd.voter, cmd.delta, decided.seq)
    return decided


def _writing(
    board: str,
    before: Session,
    after: Session,
    loaded: Loaded,
    plan: Plan,
    change: Callable[[Note, str | None], Note],
    author: str | None,
) -> list[WriteResult]:
    """A session change that turns private writing on (later creates are private) or off (the reveal)."""
    if (before["writing"] == "private") == (after["writing"] == "private"):
        return []
    private = after["writing"] == "private"
    plan.private_flags[board] = private
    if private:
        loaded.private_boards.add(board)
        return []
    loaded.private_boards.discard(board)
    plan.private_cleared.append(board)
    plan.private_new = [p for p in plan.private_new if p[1] != board]
    return switch(board, before, after, loaded.notes, loaded.private, plan.dirty, change, author) or []
