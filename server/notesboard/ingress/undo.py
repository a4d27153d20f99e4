"""A socket's registrations, undone in reverse when it ends: ExitStack's callbacks, in a list of tuples.

The socket's coroutine holds this for the socket's whole life. An `ExitStack` in a `@contextmanager` held
the generator's frame and a closure per callback: 5.2 KiB of each idle socket's 29 KiB of Python objects
(`bench/socket_memory.py`, issue #25). Same rules as ExitStack's callbacks: last registered runs first,
every step runs even when one fails, and the first failure is raised after the others ran.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

__all__ = ["Undo"]


class Undo:
    __slots__ = ("_steps",)

    def __init__(self) -> None:
        self._steps: list[tuple[Callable[..., object], tuple[Any, ...]]] = []

    def callback(self, fn: Callable[..., object], *args: Any) -> None:
        self._steps.append((fn, args))

    def __enter__(self) -> Undo:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.run()

    def run(self) -> None:
        """Every step registered so far, last first (each once)."""
        first: BaseException | None = None
        steps = self._steps
        while steps:
            fn, args = steps.pop()
            try:
                fn(*args)
            except BaseException as failed:  # noqa: BLE001 - as ExitStack: the others still run, then it is raised
                if first is None:
                    first = failed
        if first is not None:
            raise first
