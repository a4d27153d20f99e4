"""The board's vote as one client sees it (docs/protocol.md "Votes"): kept from the snapshot's `votes`, `vote`
frames and `session` frames, so that `Board.votes` always says your votes, your votes left and, when they may
be seen, every note's total."""

from __future__ import annotations

from typing import Any

__all__ = ["VoteState"]


class VoteState:
    """`mine` and `totals` by note id; `totals` is None while the tallies are hidden (or there is no vote)."""

    def __init__(self) -> None:
        self.mine: dict[int, int] = {}
        self.left = 0
        self.totals: dict[int, int] | None = None

    def snapshot(self, votes: dict[str, Any] | None) -> None:
        """The snapshot's `votes` (absent: the board has no vote)."""
        votes = votes or {}
        self.mine = {int(k): int(v) for k, v in votes.get("mine", {}).items()}
        self.left = int(votes.get("left", 0))
        totals = votes.get("totals")
        self.totals = None if totals is None else {int(k): int(v) for k, v in totals.items()}

    def vote(self, frame: dict[str, Any]) -> None:
        """A `vote` frame (your own carries `mine` and `left`; a hidden one only its seq)."""
        if "id" not in frame:
            return
        note = int(frame["id"])
        if "mine" in frame:
            self.mine[note] = int(frame["mine"])
            if not self.mine[note]:
                del self.mine[note]
            self.left = int(frame["left"])
        if "votes" in frame:
            self.totals = self.totals if self.totals is not None else {}
            self.totals[note] = int(frame["votes"])

    def session(self, frame: dict[str, Any]) -> None:
        """A `session` frame: a new vote starts empty, none drops them, and `votes` brings the totals."""
        vote = frame["session"].get("vote")
        if vote is None:
            self.mine, self.left, self.totals = {}, 0, None
            return
        if "votes" in frame:
            self.totals = {int(k): int(v) for k, v in frame["votes"].items()}
            if not self.totals and vote["open"]:  # a vote opened anew: nothing of anyone's yet
                self.mine = {}
        elif vote["hidden"] and vote["open"]:
            self.totals = None
            if not self.mine:
                self.left = vote["budget"]
        self.left = max(0, vote["budget"] - sum(self.mine.values()))
