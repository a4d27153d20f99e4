"""The connection's state machine: the transitions table, and `_enter` refusing anything else."""

from __future__ import annotations

import pytest

from notesboard.ingress.state import TRANSITIONS, ConnState, StateMachine

S = ConnState


def test_the_table() -> None:
    assert TRANSITIONS == {
        S.SYNCING: {S.OPEN, S.CLOSING, S.CLOSED},
        S.OPEN: {S.CLOSING, S.CLOSED},
        S.CLOSING: {S.CLOSED},
        S.CLOSED: set(),
    }


@pytest.mark.parametrize("start", list(S))
@pytest.mark.parametrize("to", list(S))
def test_enter_allows_exactly_the_table(start: ConnState, to: ConnState) -> None:
    conn = StateMachine()
    conn.state = start
    if to in TRANSITIONS[start]:
        conn._enter(to)
        assert conn.state is to
    else:
        with pytest.raises(RuntimeError, match=f"from {start.value} to {to.value}"):
            conn._enter(to)
        assert conn.state is start
