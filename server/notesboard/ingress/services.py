"""What a connection uses of the runtime: built once by `runtime.Runtime`, read by the endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from notesboard.awareness.service import Awareness
from notesboard.core.usecases import Notes
from notesboard.fanout.hub import Hub
from notesboard.fanout.presence import Presence
from notesboard.ingress.registry import Registry
from notesboard.ingress.snapshot import SharedReads
from notesboard.runtime.config import Settings
from notesboard.runtime.uvicorn_adapter import FastPaths
from notesboard.storage import Store

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
