"""Ctrl-C stops a command's coroutine cleanly (notesboard.cli.interrupts), wherever in a request it lands.

The blocking httpx client could be left with httpcore's pool lock held by a KeyboardInterrupt raised between
the lock's acquire and its `with` block, and `notesboard post` then hung in close() instead of exiting.
Here SIGINT is sent at many moments of `post`'s first attempts against a closed port: each run
must end with Interrupted, promptly, and leave the signal handlers as they were.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Coroutine
from typing import Any

import pytest
from rich.console import Console

from notesboard.cli.interrupts import Interrupted, until_signalled
from notesboard.cli.post import post_note


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def interrupted(posting: Coroutine[Any, Any, object], timer: threading.Timer) -> None:
    run = asyncio.ensure_future(until_signalled(posting, (signal.SIGINT,)))
    await asyncio.sleep(0)  # until_signalled has installed its handler: the signal may come now
    timer.start()
    await asyncio.wait_for(run, 10)


def test_a_signal_at_any_moment_of_a_retried_post_interrupts_it() -> None:
    url = f"http://127.0.0.1:{closed_port()}"  # refused at once: every attempt fails fast and is retried
    quiet = Console(file=open(os.devnull, "w"))  # closed below
    rng = random.Random(1409)
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)  # a pytest worker may ignore it
    before = signal.getsignal(signal.SIGINT)
    try:
        for _ in range(60):
            delay = rng.uniform(0, 0.006)  # the first attempt and the start of the wait after it
            timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
            posting = post_note(url, "b", {"text": "x"}, token=None, retry_for=60, log=quiet)
            started = time.monotonic()

            async def interrupted(
                posting: Coroutine[Any, Any, object] = posting, timer: threading.Timer = timer
            ) -> None:
                run = asyncio.ensure_future(until_signalled(posting, (signal.SIGINT,)))
                await asyncio.sleep(0)  # until_signalled has installed its handler: the signal may come
                timer.start()
                await asyncio.wait_for(run, 10)

            with pytest.raises(Interrupted) as caught:
                asyncio.run(interrupted())
            timer.join()
            assert caught.value.signum == signal.SIGINT
            assert time.monotonic() - started < 2, f"took {time.monotonic() - started:.2f}s after {delay * 1e3:.1f} ms"
            assert signal.getsignal(signal.SIGINT) == before
    finally:
        quiet.file.close()
        signal.signal(signal.SIGINT, inherited)


def test_a_signal_the_process_ignores_stays_ignored() -> None:
    """As Python does for SIGINT: a command started with it ignored (`cmd &` in a script) is not stopped."""

    async def briefly() -> str:
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.05)
        return "done"

    inherited = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert asyncio.run(until_signalled(briefly(), (signal.SIGINT,))) == "done"
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, inherited)


def test_the_result_comes_back_and_other_errors_pass_through() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    async def broken() -> None:
        raise ValueError("bad")

    assert asyncio.run(until_signalled(answer())) == 42
    with pytest.raises(ValueError, match="bad"):
        asyncio.run(until_signalled(broken()))


def test_sigterm_is_reported_as_such() -> None:
    async def forever() -> None:
        asyncio.get_running_loop().call_later(0.01, os.kill, os.getpid(), signal.SIGTERM)
        await asyncio.sleep(30)

    with pytest.raises(Interrupted) as caught:
        asyncio.run(until_signalled(forever()))
    assert caught.value.signum == signal.SIGTERM and str(caught.value) == "SIGTERM"
