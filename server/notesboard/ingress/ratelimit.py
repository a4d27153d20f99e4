"""Per-connection rate limit: a token bucket (pure: the caller passes the clock)."""

from __future__ import annotations

__all__ = ["TokenBucket"]


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; one frame takes one token.

    `limited` counts refusals in a row: more than `burst` of them is sustained abuse (the connection is
    closed), a frame that gets a token resets it.
    """

    __slots__ = ("_last", "_tokens", "burst", "limited", "rate")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last = now
        self.limited = 0

    def take(self, now: float) -> bool:
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self.limited = 0
            return True
        self.limited += 1
        return False

    @property
    def abusive(self) -> bool:
        return self.limited > self.burst
