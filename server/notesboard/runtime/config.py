"""All settings in one place.

Every setting can come from the environment (`NOTESBOARD_<NAME>`) and is a flag of `notesboard serve` of the
same name, so `--max-text 20000` and `NOTESBOARD_MAX_TEXT=20000` mean the same thing. The flags, their help
and README's settings table are generated from the fields below (settings_cli.py): give each a description.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./notesboard.db"


class Settings(BaseSettings):
    """Server settings with their defaults; limits are deliberately conservative."""

    model_config = SettingsConfigDict(env_prefix="NOTESBOARD_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to bind (127.0.0.1: this machine only).")
    port: int = Field(8000, ge=0, le=65535, description="TCP port to listen on (0: any free port).")
    database_url: str = Field(
        DEFAULT_DATABASE_URL, description="sqlite+aiosqlite:///FILE or postgresql+asyncpg://user@host/db."
    )
    broker: str = Field(
        "memory://",
        description="memory:// (one process), or redis://host:6379/0 or postgresql://user@host/db to run several.",
    )
    workers: int = Field(
        1, ge=1, le=64, description="Server processes on this port (SO_REUSEPORT); above 1 needs a shared broker."
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info", description="At info: one line per socket open and close, with the reason."
    )

    # Access control (see auth.py). No secret: no tokens needed.
    auth_secret: str | None = Field(
        None,
        description="HS256 secret for tokens, at least 32 bytes (notesboard token --new-secret); unset turns auth off.",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser Origins allowed besides the server's own, comma-separated ('*' for any).",
    )

    # Content limits (the wire contract's defaults).
    max_text: int = Field(10_000, ge=0, le=1_000_000, description="Longest note text, in code points.")
    max_frame_bytes: int = Field(
        256 * 1024, ge=1024, le=16 * 1024 * 1024, description="Largest client frame or REST body (bigger: close 1009)."
    )
    snapshot_limit: int = Field(1000, ge=1, le=100_000, description="Live notes in a snapshot without `since`.")
    snapshot_max: int = Field(
        10_000, ge=1, le=100_000, description="Largest fresh snapshot a socket may ask for with `limit=`."
    )
    share_snapshot_reads: bool = Field(
        True, description="Connects of one board arriving together share one snapshot read (off: one read each)."
    )
    snapshot_cache_bytes: int = Field(
        64 * 1024 * 1024,
        ge=0,
        description="Memory for the newest snapshot of each board with connections, kept to serve its connects "
        "until the board changes; all boards together (0: off).",
    )
    list_boards: bool = Field(
        False, description="Let anyone list every board (GET /api/boards); off: board names act as share links."
    )
    max_import: int = Field(10_000, ge=1, le=100_000, description="Notes one import may create.")
    max_timer: float = Field(
        86_400, ge=1, le=7 * 86_400, description="Longest board session timer, in seconds (longer: bad_request)."
    )

    # Connection limits.
    max_connections: int = Field(10_000, ge=1, description="Open WebSocket connections per process (more: 503).")
    max_connections_per_ip: int = Field(1000, ge=1, description="Open sockets from one client address (more: 429).")
    max_boards: int = Field(100_000, ge=1, description="Boards a database may hold; creating more is refused.")
    queue_frames: int = Field(1024, ge=8, description="Frames waiting for one slow client before it is closed 1013.")
    queue_bytes: int = Field(1024 * 1024, ge=4096, description="Bytes waiting for one slow client before 1013.")
    max_inflight: int = Field(256, ge=1, description="Writes one connection may have waiting for commit.")
    rate_limit: float = Field(0.0, ge=0.0, description="Frames/s per connection (token bucket); 0 turns it off.")
    rate_burst: int = Field(400, ge=1, description="Token bucket size for the rate limit.")
    stall_timeout: float = Field(
        10.0, ge=0.5, description="A send waiting this long means the client stopped reading: close it 1013."
    )
    ping_interval: float = Field(20.0, ge=0.0, description="Transport ping every N seconds (0: off).")
    ping_timeout: float = Field(20.0, gt=0.0, description="Close a connection whose pong is this late.")
    direct_writes: bool = Field(
        True, description="Write ready-framed events straight to idle sockets (see uvicorn_adapter.py)."
    )
    gc_threshold: int = Field(
        200_000,
        ge=0,
        description="Allocations between the garbage collector's youngest collections (0: Python's 700).",
    )
    ws_compression: bool = Field(False, description="permessage-deflate (costs hundreds of KB per socket).")
    ws_impl: Literal["websockets-sansio", "websockets", "wsproto"] = Field(
        "websockets-sansio", description="uvicorn's WebSocket implementation (the fast paths need the default)."
    )

    ytext_announce_window: float = Field(
        0.1,
        ge=0.0,
        le=5.0,
        description="Typing on /y/ (Yjs) announces a note to v1 clients at most once per N seconds (0: every commit).",
    )

    fanout_delay: float = Field(
        0.0, ge=0.0, le=0.5, description="Seconds to gather a board's events before fan-out (0: next loop turn)."
    )
    fanout_coalesce: float = Field(
        0.02, ge=0.0, le=0.5, description="Under load, a big board's events go out at most once per this (0: off)."
    )
    fanout_coalesce_min: int = Field(32, ge=1, description="Connections from which a board's fan-out is coalesced.")

    # Storage and group commit.
    busy_timeout: float = Field(5.0, gt=0.0, description="Seconds to wait for a locked SQLite database.")
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL", description="FULL: durable on power loss; NORMAL: faster (see README, Durability)."
    )
    batch_max: int = Field(512, ge=1, le=10_000, description="Writes committed together in one transaction.")
    write_queue: int = Field(10_000, ge=1, description="Writes waiting for the writer before `unavailable`.")
    read_connections: int = Field(2, ge=1, le=64, description="Database connections kept for reads.")

    # History (the change log; storage/history.py).
    history: bool = Field(
        True, description="Log every change (who, when, the note after it) for history and ?at= (off: not kept)."
    )
    history_days: float = Field(
        90.0, ge=0.0, description="Days of history kept; older changes are pruned in the background (0: keep all)."
    )
    history_prune_interval: float = Field(
        60.0, gt=0.0, le=86_400.0, description="Seconds between pruning rounds that found nothing to prune."
    )

    # Presence and shutdown.
    presence_interval: float = Field(1.0, gt=0.0, le=1.0, description="Presence updates are coalesced this long.")
    awareness: bool = Field(
        True, description="Relay awareness frames (cursors, selections); off: they are ignored and none are sent."
    )
    awareness_tick: float = Field(
        0.05, ge=0.01, le=1.0, description="Seconds between a board's awareness frames (changes are coalesced)."
    )
    shutdown_timeout: float = Field(10.0, gt=0.0, description="Seconds to drain writes and sockets at shutdown.")

    # Several processes (a broker other than memory://; see cluster/ and docs/deploy.md).
    presence_ttl: float = Field(
        10.0, ge=1.0, le=300.0, description="Seconds a process's presence lasts unrefreshed (a crashed one's clients)."
    )
    gap_wait: float = Field(
        0.25, ge=0.0, le=10.0, description="Seconds an early event waits for the missing ones before a database read."
    )
    seq_check_interval: float = Field(
        5.0, ge=0.2, le=300.0, description="Seconds between checks of watched boards against the database."
    )
    subscribe_grace: float = Field(
        30.0, ge=0.0, le=3600.0, description="Seconds a board stays subscribed after its last client here left."
    )
    notify_buckets: int = Field(
        256, ge=1, le=4096, description="LISTEN/NOTIFY channels boards are hashed over (Postgres broker)."
    )

    client_dir: Path | None = Field(None, description="Folder of the static client; unset: the bundled one.")

    @field_validator("auth_secret")
    @classmethod
    def _strong_secret(cls, value: str | None) -> str | None:
        from notesboard.core.auth import check_secret

        return check_secret(value) if value else None  # empty: auth off, like unset

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
