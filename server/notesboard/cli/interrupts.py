"""Stop a command's coroutine on SIGINT/SIGTERM by cancelling it, never by an exception raised mid-bytecode.

Why: Python's default SIGINT handler raises KeyboardInterrupt wherever the main thread happens to be. In
httpx's blocking client that can land inside httpcore's pool between a lock's `acquire()` and its `with`
block (httpcore 1.0.9, `ThreadLock.__enter__`): the lock stays held and the client's `close()` then waits
for it forever, so `notesboard post` could hang on Ctrl-C instead of exiting 130 (seen in-process: a
KeyboardInterrupt raised at random moments of `Rest.create` against a closed port hung it within seconds).
A cancelled task stops at its next `await`, where httpx's async client is safe to leave.

A signal the process was started with ignored (a `cmd &` in a script, nohup-style runners) stays ignored,
as Python itself does for SIGINT.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["Interrupted", "until_signalled"]

T = TypeVar("T")
BOTH = (signal.SIGTERM, signal.SIGINT)


class Interrupted(Exception):
    """A signal stopped the command; `signum` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


async def until_signalled(coro: Coroutine[Any, Any, T], signals: tuple[int, ...] = BOTH) -> T:
    """Run `coro` to its result; raise Interrupted if one of `signals` arrived first (the task is cancelled)."""
    signals = tuple(sig for sig in signals if signal.getsignal(sig) != signal.SIG_IGN)
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(coro)
    caught: list[int] = []

    def stop(signum: int) -> None:
        caught.append(signum)
        task.cancel()

    for sig in signals:
        loop.add_signal_handler(sig, stop, sig)
    try:
        return await task
    except asyncio.CancelledError:
        if not caught:
            raise
        raise Interrupted(caught[0]) from None
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
