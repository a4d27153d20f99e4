"""Backplanes, chosen by URL scheme (`memory://` for one process)."""

from __future__ import annotations

from notesboard.backplane.base import Backplane, Deliver
from notesboard.backplane.memory import MemoryBackplane

__all__ = ["Backplane", "Deliver", "MemoryBackplane", "check_url", "from_url"]

SCHEMES = ("memory",)


def check_url(url: str) -> str:
    """The URL's scheme if this version has a backplane for it; ValueError otherwise."""
    scheme = url.split(":", 1)[0].lower()
    if "://" not in url or scheme not in SCHEMES:
        raise ValueError(f"unsupported broker URL {url!r}: this version supports memory:// only")
    return scheme


def from_url(url: str, deliver: Deliver) -> Backplane:
    check_url(url)
    return MemoryBackplane(deliver)
