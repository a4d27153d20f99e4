"""The token bucket, on a clock the test controls."""

from __future__ import annotations

from notesboard.ingress.ratelimit import TokenBucket


def test_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=10.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.limited == 1
    assert not bucket.take(0.05)  # half a token
    assert bucket.take(0.1) and bucket.limited == 0  # a token earned resets the refusals
    assert not bucket.take(0.1)


def test_savings_are_capped_at_the_burst() -> None:
    bucket = TokenBucket(rate=100.0, burst=2, now=0.0)
    assert bucket.take(0.0) and bucket.take(0.0)
    assert [bucket.take(60.0) for _ in range(3)] == [True, True, False]


def test_more_refusals_in_a_row_than_the_burst_is_abuse() -> None:
    bucket = TokenBucket(rate=1.0, burst=2, now=0.0)
    bucket.take(0.0), bucket.take(0.0)
    for _ in range(2):
        assert not bucket.take(0.0) and not bucket.abusive
    assert not bucket.take(0.0) and bucket.abusive
