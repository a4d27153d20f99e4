"""What a connection uses of the runtime: built once by `runtime.Runtime`, read by the endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from notesboard.awareness.service import Awareness
from notesboard.config import Settings
from notesboard.fanout import Hub
from notesboard.ingress.registry import Registry
from notesboard.presence import Presence
from notesboard.snapshot import SharedReads
from notesboard.storage import Store
from notesboard.usecases import Notes
from notesboard.uvicorn_adapter import FastPaths

__all__ = ["Services"]


@dataclass(slots=True, frozen=True)
class Services:
    settings: Settings
    hub: Hub
    presence: Presence
    store: Store
    notes: Notes
    registry: Registry
    error: Callable[[str], None]  # counts an error sent to a client, by code (metrics)
    fast: FastPaths
    snapshots: SharedReads
    awareness: Awareness
