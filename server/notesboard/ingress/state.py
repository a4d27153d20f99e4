"""A connection's lifecycle as a checked state machine: one table of allowed transitions, one method that
moves (`_enter`), so no state is assigned from anywhere else."""

from __future__ import annotations

from enum import Enum

__all__ = ["LIVE", "TRANSITIONS", "ConnState", "StateMachine"]


class ConnState(Enum):
    SYNCING = "syncing"  # accepted, snapshot being read: events are held back
    OPEN = "open"  # snapshot sent: events flow
    CLOSING = "closing"  # a close was decided (overflow, shutdown, abuse): input is ignored
    CLOSED = "closed"


TRANSITIONS: dict[ConnState, frozenset[ConnState]] = {
    ConnState.SYNCING: frozenset({ConnState.OPEN, ConnState.CLOSING, ConnState.CLOSED}),
    ConnState.OPEN: frozenset({ConnState.CLOSING, ConnState.CLOSED}),
    ConnState.CLOSING: frozenset({ConnState.CLOSED}),
    ConnState.CLOSED: frozenset(),
}
LIVE = frozenset({ConnState.SYNCING, ConnState.OPEN})  # a close may still be decided


class StateMachine:
    def __init__(self) -> None:
        self.state = ConnState.SYNCING

    def _enter(self, state: ConnState) -> None:
        """The one place the state changes; a transition outside TRANSITIONS is a bug."""
        if state not in TRANSITIONS[self.state]:
            raise RuntimeError(f"connection cannot go from {self.state.value} to {state.value}")
        self.state = state

    @property
    def is_open(self) -> bool:
        return self.state is ConnState.OPEN
