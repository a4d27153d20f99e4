"""Reconnect delays: exponential, capped, with jitter so that clients cut off together do not return together."""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """`next()` gives base, 2 x base, ... up to `cap`, each scaled by a random factor in [0.5, 1.5)."""

    def __init__(self, base: float = 0.2, cap: float = 10.0, rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self._rng = rng or random.Random()
        self._delay = base

    def next(self) -> float:
        delay = self._delay * (0.5 + self._rng.random())
        self._delay = min(self._delay * 2, self.cap)
        return delay

    def reset(self) -> None:
        """After a successful connect: the next failure waits `base` again."""
        self._delay = self.base
