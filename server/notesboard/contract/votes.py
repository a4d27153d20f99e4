"""Votes on the wire (protocol-collab.md "Board session", docs/protocol.md "Votes"): the `vote` command's
shape, and the frames a committed vote becomes.

A vote's frames depend on who reads them: while the tallies are hidden, only the voter may learn which note
a vote went to. So a vote is published as a *split* frame (`protocol.split_frame`): the voter's own version
and everyone else's, rendered per connection by the fan-out. Others still get a frame with the vote's seq
(`{"type":"vote","seq":N,"hidden":true}`), so that every client's seqs stay gapless.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from notesboard.contract.errors import BadRequest
from notesboard.contract.fields import CLIENT_ID_MAX, CLIENT_ID_PATTERN
from notesboard.contract.model import VoteCommand, VoteResult
from notesboard.contract.protocol import encode, split_frame

__all__ = ["VOTER_KEY_MAX", "vote_ack", "vote_command", "vote_event", "vote_reply"]

VOTER_KEY_MAX = 64  # a browser's voter key (`key=` on the socket, `voter` on REST), auth off


class _Vote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: StrictStr | None = None
    id: StrictInt = Field(ge=1, le=2**63 - 1)
    delta: StrictInt
    client_id: StrictStr | None = Field(None, max_length=CLIENT_ID_MAX, pattern=CLIENT_ID_PATTERN)
    voter: StrictStr | None = Field(None, min_length=1, max_length=VOTER_KEY_MAX)


def vote_command(body: Any, note_id: int | None = None) -> tuple[VoteCommand, str | None]:
    """A `vote` frame or a REST vote body -> (the command without its voter, the body's `voter` key if any)."""
    cid = body.get("client_id") if isinstance(body, dict) else None
    cid = cid if isinstance(cid, str) and len(cid) <= CLIENT_ID_MAX else None
    if not isinstance(body, dict):
        raise BadRequest("a vote must be a JSON object")
    if note_id is not None:
        if "id" in body:
            raise BadRequest("the note's id is in the URL; leave it out of the body", cid)
        body = {**body, "id": note_id}
    try:
        m = _Vote.model_validate(body)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise BadRequest(f"vote {where}: {err['msg']}", cid) from None
    if m.delta not in (1, -1):
        raise BadRequest("vote delta must be 1 (add a vote) or -1 (take one back)", cid)
    return VoteCommand(id=m.id, delta=m.delta, client_id=m.client_id), m.voter


def vote_reply(r: VoteResult) -> dict[str, Any]:
    """What the voter learns of their vote (the REST answer, and the `vote` of the socket's ack)."""
    reply: dict[str, Any] = {"id": r.note_id, "delta": r.delta, "mine": r.mine, "left": r.left}
    if not r.hidden:
        reply["votes"] = r.total
    return reply


def vote_ack(client_id: str | None, r: VoteResult) -> str:
    return encode({"type": "ack", "client_id": client_id, "seq": r.seq, "vote": vote_reply(r)})


def vote_event(r: VoteResult) -> str:
    """The committed vote as a frame per reader: the voter's (with `mine` and `left`) and everyone else's."""
    own = encode({"type": "vote", "seq": r.seq, **vote_reply(r)})
    if r.hidden:
        other = encode({"type": "vote", "seq": r.seq, "hidden": True})
    else:
        other = encode({"type": "vote", "seq": r.seq, "id": r.note_id, "delta": r.delta, "votes": r.total})
    return split_frame(r.voter, own, other)
