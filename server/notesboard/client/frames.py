"""Frames on the wire: one JSON object per frame; with `batch=1` a message joins several with newlines."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["decode", "encode"]


def decode(message: str | bytes) -> list[dict[str, Any]]:
    """The frames of one message, in order. ValueError if a line is not a JSON object."""
    text = message.decode() if isinstance(message, bytes) else message
    frames = [orjson.loads(line) for line in text.split("\n")]
    for frame in frames:
        if not isinstance(frame, dict):
            raise ValueError(f"a frame must be a JSON object, got {type(frame).__name__}")
    return frames


def encode(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()
