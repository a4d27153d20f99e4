"""What a worker's clients saw (merged by the coordinator), the kinds of client, and failures as short text."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum

from websockets.exceptions import InvalidStatus

from notesboard.loadtest.accounting import Histogram, Series

__all__ = ["ClientKind", "Tally", "describe"]


class ClientKind(Enum):
    READER = "reader"  # reads and checks every event
    SENDER = "sender"  # a reader that also creates notes
    SLOW = "slow"  # reads the snapshot, then stops reading


@dataclass
class Tally:
    """What one worker's clients saw; merged by the coordinator."""

    frames: int = 0
    messages: int = 0
    delivered: int = 0  # distinct events received live
    recovered: int = 0  # missed changes received in a resume snapshot
    presence: int = 0
    aware_frames: int = 0  # awareness frames received (--cursors)
    aware_entries: int = 0  # peer entries in them
    aware_bytes: int = 0  # characters of messages that were one awareness frame each
    cursor_moves: int = 0  # awareness frames sent
    errors: Counter[str] = field(default_factory=Counter)  # error frame codes and contract violations
    closes: Counter[str] = field(default_factory=Counter)  # close codes the server chose during the run
    resumes: int = 0
    connect: Histogram = field(default_factory=Histogram)
    ack: Histogram = field(default_factory=Histogram)
    delivery: Histogram = field(default_factory=Histogram)
    cursor: Histogram = field(default_factory=Histogram)  # cursor send -> seen by another client
    ack_series: Series = field(default_factory=Series)
    delivery_series: Series = field(default_factory=Series)
    acked_seq: dict[str, int] = field(default_factory=dict)  # board -> highest acknowledged seq
    acked_log: list[tuple[str, int, str]] | None = None  # (board, seq, client_id) of every ack, when asked


def describe(exc: BaseException) -> str:
    """Why a connect failed, short enough to count by (HTTP 503, timeout, ConnectionRefusedError: ...)."""
    if isinstance(exc, InvalidStatus):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or exc}"
    return type(exc).__name__
