"""The socket's query string (`since`, `epoch`, `name`, `batch`, `token`, `limit`, `key`) -> a Handshake, or
BadRequest: what the endpoint checks before it accepts a connection. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notesboard.contract.errors import BadRequest
from notesboard.contract.validate import check_name, parse_int_param
from notesboard.core.voters import check_key

__all__ = ["Handshake", "handshake"]


@dataclass(frozen=True, slots=True)
class Handshake:
    """The socket's query string, validated."""

    since: int | None
    epoch: str | None
    name: str | None
    batch: bool
    token: str | None
    limit: int | None = None  # a larger fresh snapshot than snapshot_limit (cut to snapshot_max)
    key: str | None = None  # a browser's voter key, kept across reconnects (core/voters.py)


def handshake(params: Any, snapshot_max: int = 10_000) -> Handshake:
    """`params` is a mapping of query parameters; unknown ones are ignored."""
    since = parse_int_param("since", params.get("since"), low=0, high=2**63 - 1)
    epoch = params.get("epoch") or None
    if epoch is not None and len(epoch) > 128:
        raise BadRequest("epoch is too long")
    name = params.get("name") or None
    if name is not None:
        try:
            check_name(name)
        except ValueError as exc:
            raise BadRequest(f"name: {exc}") from None
    raw_batch = params.get("batch", "0")
    if raw_batch not in ("0", "1", "true", "false", ""):
        raise BadRequest("batch must be 1 or 0")
    # Above snapshot_max is cut to it, not refused: a client asking for a whole board still gets in, and the
    # snapshot's `more` tells it what was left out.
    limit = parse_int_param("limit", params.get("limit"), low=1, high=2**63 - 1)
    limit = None if limit is None else min(limit, snapshot_max)
    key = params.get("key") or None
    if key is not None:
        check_key(key, "key")
    return Handshake(since, epoch, name, raw_batch in ("1", "true"), params.get("token") or None, limit, key)
