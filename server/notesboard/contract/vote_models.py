"""The votes' shapes for `/openapi.json` and `/asyncapi.json` (docs/protocol.md "Votes"): what
`contract/votes.py` parses and builds, restated as pydantic models (tests check them against real frames)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from notesboard.contract.api_models import VOTER_KEY_PATTERN, ClientId, PositiveInt, Schema, SessionVote

__all__ = ["VoteBody", "VoteEventFrame", "VoteFrame", "VoteReply", "VotesView"]

VOTER = Field(
    None,
    pattern=VOTER_KEY_PATTERN,
    description="your voter key: required with auth off; with auth on the token's sub (or the token) is the voter",
)


class VoteBody(Schema):
    """POST: give a vote (1) or take one back (-1)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    delta: Literal[1, -1]
    client_id: ClientId | None = None
    voter: str | None = VOTER


class VoteReply(Schema):
    """Your vote as committed: your votes on the note (`mine`), your votes left, and the note's total (`votes`)
    unless the tallies are hidden."""

    id: int
    delta: Literal[1, -1]
    mine: int
    left: int
    votes: int | None = Field(None, description="absent while the tallies are hidden")


class RestVoteReply(VoteReply):
    seq: int = Field(description="the board's seq this vote took (a replay: the first vote's)")


class VotesView(Schema):
    """The board's vote as you may see it: your votes per note id, your votes left, and every note's total
    unless the tallies are hidden (absent then)."""

    mine: dict[str, int]
    left: int
    totals: dict[str, int] | None = Field(None, description="absent while the tallies are hidden")


class BoardVotes(VotesView):
    vote: SessionVote | None = Field(description="the vote's settings (null: no vote)")


class VoteFrame(Schema):
    """Give a vote (delta 1) or take one back (-1) on note `id`, while the board's vote is open."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["vote"]
    id: PositiveInt
    delta: Literal[1, -1]
    client_id: ClientId | None = None


class VoteEventFrame(Schema):
    """A committed vote; it takes the board's next seq. The voter's sockets get `id`, `delta`, `mine`, `left`
    (and `votes` unless hidden); others get `id`, `delta`, `votes`, or only `hidden: true` while the tallies are
    hidden."""

    type: Literal["vote"]
    seq: int
    id: int | None = None
    delta: Literal[1, -1] | None = None
    votes: int | None = None
    mine: int | None = None
    left: int | None = None
    hidden: Literal[True] | None = None
