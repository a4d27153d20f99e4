"""Backplanes, chosen by URL scheme (`memory://` for one process)."""

from __future__ import annotations

from notesboard.backplane.base import Backplane, Deliver
from notesboard.backplane.memory import MemoryBackplane

__all__ = ["Backplane", "Deliver", "MemoryBackplane", "from_url"]


def from_url(url: str, deliver: Deliver) -> Backplane:
    scheme = url.split(":", 1)[0].lower()
    if scheme == "memory":
        return MemoryBackplane(deliver)
    raise ValueError(f"unsupported broker URL {url!r}: this version supports memory:// only")
