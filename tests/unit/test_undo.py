"""Undo: a socket's registrations undone in reverse, every one of them even when one fails."""

from __future__ import annotations

import pytest

from notesboard.ingress.undo import Undo


def test_steps_run_in_reverse_once() -> None:
    done: list[str] = []
    with Undo() as undo:
        undo.callback(done.append, "first")
        undo.callback(done.append, "second")
    assert done == ["second", "first"]
    undo.run()  # nothing left to run
    assert done == ["second", "first"]


def test_a_failing_step_does_not_stop_the_others_and_is_raised() -> None:
    done: list[str] = []

    def boom(what: str) -> None:
        raise RuntimeError(what)

    with pytest.raises(RuntimeError, match="inner"):
        with Undo() as undo:
            undo.callback(done.append, "a")
            undo.callback(boom, "outer")
            undo.callback(boom, "inner")
            undo.callback(done.append, "b")
    assert done == ["b", "a"]


def test_the_bodys_error_goes_on_when_every_step_succeeds() -> None:
    done: list[str] = []
    with pytest.raises(ValueError):
        with Undo() as undo:
            undo.callback(done.append, "x")
            raise ValueError("body")
    assert done == ["x"]
