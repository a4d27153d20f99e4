"""Pure accounting for the load tester: no sockets, no clocks, no I/O.

- `StreamChecker` follows one client's event stream and classifies every seq it is fed: in order, a gap
  (something skipped), late (an out-of-order arrival that fills a gap) or a duplicate.
- `AckTracker` pairs each sent create (by `client_id`) with exactly one ack.
- `Histogram` is a mergeable log-linear histogram of microseconds (about 1.6% relative precision), cheap
  enough to record every delivery; `Series` keeps one per second for latency-over-time charts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = ["AckTracker", "Histogram", "Series", "StreamChecker", "Verdict"]

# Gaps are remembered seq by seq; past this many missing seqs a client only counts them.
MAX_TRACKED_MISSING = 1_000_000


class Verdict(Enum):
    IN_ORDER = "in_order"  # the next seq
    GAP = "gap"  # newer than expected: the seqs in between are missing (for now)
    LATE = "late"  # older than the newest seen, filling a gap: out of order
    DUPLICATE = "duplicate"  # seen before (or covered by the snapshot)


class StreamChecker:
    """One client's view of its board: every seq after the snapshot's, exactly once, in order.

    `feed()` takes each event's seq as it arrives. `lost(final_seq)` is what never arrived: the gaps
    still open plus everything between the newest seq seen and the board's final seq.
    """

    __slots__ = ("_missing", "_untracked", "duplicates", "gaps", "last", "out_of_order", "received", "start")

    def __init__(self, start_seq: int) -> None:
        self.start = start_seq
        self.last = start_seq  # the newest seq seen (the snapshot's seq at first)
        self.received = 0  # distinct seqs received after the snapshot
        self.duplicates = 0
        self.out_of_order = 0
        self.gaps = 0  # times a seq skipped ahead
        self._missing: set[int] = set()
        self._untracked = 0  # missing seqs beyond MAX_TRACKED_MISSING (they can no longer be filled)

    def feed(self, seq: int) -> Verdict:
        last = self.last
        if seq == last + 1:
            self.last = seq
            self.received += 1
            return Verdict.IN_ORDER
        if seq > last:
            self.gaps += 1
            room = MAX_TRACKED_MISSING - len(self._missing)
            skipped = seq - last - 1
            self._missing.update(range(last + 1, last + 1 + min(skipped, max(room, 0))))
            self._untracked += max(skipped - max(room, 0), 0)
            self.last = seq
            self.received += 1
            return Verdict.GAP
        if seq in self._missing:
            self._missing.discard(seq)
            self.out_of_order += 1
            self.received += 1
            return Verdict.LATE
        self.duplicates += 1
        return Verdict.DUPLICATE

    def skip_to(self, seq: int) -> None:
        """A resume snapshot says the board is at `seq`: whatever was not fed up to it is missing."""
        if seq > self.last:
            room = max(MAX_TRACKED_MISSING - len(self._missing), 0)
            skipped = seq - self.last
            self._missing.update(range(self.last + 1, self.last + 1 + min(skipped, room)))
            self._untracked += max(skipped - room, 0)
            self.last = seq

    def resumed(self, missed: list[int], seq: int) -> int:
        """A resume snapshot brought these missed seqs and says the board is at `seq`: how many were new."""
        new = sum(self.feed(m) is not Verdict.DUPLICATE for m in missed)
        self.skip_to(seq)
        return new

    def rebase(self, seq: int) -> None:
        """The board's history was reset (new epoch): start over from this snapshot seq."""
        self.start = self.last = seq
        self._missing.clear()

    def missing(self) -> int:
        return len(self._missing) + self._untracked

    def lost(self, final_seq: int) -> int:
        return self.missing() + max(final_seq - self.last, 0)


class AckTracker:
    """Pairs every sent create with its one ack, by client_id."""

    __slots__ = ("_pending", "acked", "duplicate_acks", "failed", "sent")

    def __init__(self) -> None:
        self._pending: dict[str, int] = {}  # client_id -> send time (ns)
        self.sent = 0
        self.acked = 0
        self.failed = 0  # answered with an error frame
        self.duplicate_acks = 0  # an ack for a client_id already acked, or never sent

    def sent_one(self, client_id: str, t_ns: int) -> None:
        self._pending[client_id] = t_ns
        self.sent += 1

    def ack(self, client_id: str | None) -> int | None:
        """The send time of this create, or None (and counted) if it was not waiting for an ack."""
        t = self._pending.pop(client_id, None) if client_id is not None else None
        if t is None:
            self.duplicate_acks += 1
            return None
        self.acked += 1
        return t

    def error(self, client_id: str | None) -> bool:
        """An error frame answered a create: True if it was one of ours."""
        if client_id is not None and self._pending.pop(client_id, None) is not None:
            self.failed += 1
            return True
        return False

    @property
    def outstanding(self) -> int:
        return len(self._pending)


def _bucket(us: int) -> int:
    if us < 128:
        return us if us > 0 else 0
    shift = us.bit_length() - 7
    return (shift << 7) | (us >> shift)


def _bucket_value(key: int) -> float:
    shift, mantissa = key >> 7, key & 127
    if shift == 0:
        return float(mantissa)
    return ((mantissa << shift) + ((mantissa + 1) << shift) - 1) / 2


@dataclass
class Histogram:
    """Counts of microsecond values in log-linear buckets (exact below 128 us, then ~1.6% wide)."""

    counts: dict[int, int] = field(default_factory=dict)
    n: int = 0
    total: int = 0  # sum of the recorded values (us), for the mean
    max: int = 0

    def record(self, us: int) -> None:
        key = _bucket(us)
        self.counts[key] = self.counts.get(key, 0) + 1
        self.n += 1
        self.total += us
        if us > self.max:
            self.max = us

    def merge(self, other: Histogram) -> None:
        for key, count in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + count
        self.n += other.n
        self.total += other.total
        self.max = max(self.max, other.max)

    def quantile(self, q: float) -> float:
        """The value (us) at quantile q in [0, 1]; 0 when empty. The top quantile is the exact max."""
        if self.n == 0:
            return 0.0
        rank = max(1, min(self.n, math.ceil(q * self.n)))
        seen = 0
        for key in sorted(self.counts):
            seen += self.counts[key]
            if seen >= rank:
                return min(_bucket_value(key), float(self.max))
        return float(self.max)

    def summary_ms(self) -> dict[str, float]:
        """count, mean, p50, p90, p99 and max, in milliseconds (count as a plain number)."""
        return {
            "count": self.n,
            "mean": round(self.total / self.n / 1000, 3) if self.n else 0.0,
            "p50": round(self.quantile(0.50) / 1000, 3),
            "p90": round(self.quantile(0.90) / 1000, 3),
            "p99": round(self.quantile(0.99) / 1000, 3),
            "max": round(self.max / 1000, 3),
        }

    def buckets_ms(self) -> list[tuple[float, int]]:
        """(value in ms, count) for every non-empty bucket, ascending: the histogram chart's data."""
        return [(_bucket_value(k) / 1000, self.counts[k]) for k in sorted(self.counts)]

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": {str(k): v for k, v in self.counts.items()},
            "n": self.n,
            "total": self.total,
            "max": self.max,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Histogram:
        counts = {int(k): int(v) for k, v in data["counts"].items()}
        return cls(counts, int(data["n"]), int(data["total"]), int(data["max"]))


@dataclass
class Series:
    """One histogram per second since the start of the run (latency over time)."""

    per_second: dict[int, Histogram] = field(default_factory=dict)

    def record(self, second: int, us: int) -> None:
        hist = self.per_second.get(second)
        if hist is None:
            hist = self.per_second[second] = Histogram()
        hist.record(us)

    def merge(self, other: Series) -> None:
        for second, hist in other.per_second.items():
            mine = self.per_second.get(second)
            if mine is None:
                mine = self.per_second[second] = Histogram()
            mine.merge(hist)

    def rows_ms(self) -> list[dict[str, float]]:
        """Per second: t, count, p50, p99 and max (ms), ascending."""
        rows = []
        for second in sorted(self.per_second):
            s = self.per_second[second].summary_ms()
            rows.append({"t": second, "count": s["count"], "p50": s["p50"], "p99": s["p99"], "max": s["max"]})
        return rows

    def to_json(self) -> dict[str, Any]:
        return {str(k): v.to_json() for k, v in self.per_second.items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Series:
        return cls({int(k): Histogram.from_json(v) for k, v in data.items()})
