"""The socket URL of a board."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = ["ws_url"]


def ws_url(base: str, board: str, **query: Any) -> str:
    """http(s)://host:port -> ws(s)://host:port/ws/BOARD?query (None values are left out)."""
    parts = urlsplit(base if "://" in base else f"http://{base}")
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None:
        raise ValueError(f"unsupported URL scheme in {base!r}")
    qs = "&".join(f"{k}={quote(str(v))}" for k, v in query.items() if v is not None)
    return urlunsplit((scheme, parts.netloc, f"/ws/{board}", qs, ""))
