"""The load test's parameters and the live progress it reports."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from notesboard.loadtest.procstat import ProcSample

__all__ = ["LoadConfig", "Progress"]


@dataclass
class LoadConfig:
    url: str = "http://127.0.0.1:8000"
    boards: int = 1
    clients: int = 10
    senders: int = 1
    rate: float = 1.0  # creates/s per sender; 0: as fast as the window of unacked creates allows
    window: int = 32
    duration: float = 10.0
    payload: int = 100
    slow: int = 0
    cursors: float = 0.0  # cursor moves/s per client (awareness frames); 0: none
    procs: int = 1
    server_pid: int | None = None
    board_prefix: str = ""  # default: lt-<run id>-
    connect_timeout: float = 10.0
    connect_concurrency: int = 256
    drain_timeout: float = 10.0
    record_acks: bool = False
    sources: int = 1  # loopback source addresses the sockets are spread over (127.0.0.1 .. 127.0.0.N)
    join_order: str = "spread"  # "spread": round the boards, one socket each; "board": a board's sockets together
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))

    def board(self, i: int) -> str:
        return f"{self.board_prefix or f'lt-{self.run_id}-'}{i % self.boards}"

    def join_rank(self, i: int) -> tuple[int, int]:
        """Where client `i` comes in the connect order of its process. Board `i mod B` either way; "spread"
        keeps index order (every board gains a socket in turn: the most presence and awareness traffic, as
        each join reaches watchers that keep arriving), "board" brings a board's sockets in together (people
        joining their own meeting: joins close together share the coalesced presence and awareness frames)."""
        return (i % self.boards, i) if self.join_order == "board" else (0, i)

    def source(self, i: int) -> str | None:
        """The local address client `i` connects from (None: the system's choice). A loopback destination
        offers ~28,000 ephemeral ports per source address; more sockets need more sources."""
        return None if self.sources <= 1 else f"127.0.0.{1 + i % self.sources}"


@dataclass
class Progress:
    """What the live display shows; updated every half second."""

    phase: str = "starting"
    elapsed: float = 0.0
    connected: int = 0
    planned: int = 0
    sent: int = 0
    acked: int = 0
    delivered: int = 0
    errors: int = 0
    resumes: int = 0
    server: ProcSample | None = None
