"""Awareness (issue #21): live cursors, selections, who edits what, and viewports, relayed and never stored.

- `parse`: a client `awareness` frame -> the fields it sets, or BadRequest (pure).
- `frames`: server frames built from already-encoded entries (one encode per changed peer per tick).
- `peer`: one local connection's state, encoded entry, and its pending merge for a busy outbox.
- `service`: `Awareness`, the per-board rooms and the tick; `remote`/`remote_gone`/`asked`/`forget` are
  the cluster backplane's way in (`cluster/awareness_wire.py` is the broker message format).
"""

from __future__ import annotations

from notesboard.awareness.parse import parse_awareness
from notesboard.awareness.service import PALETTE, Awareness

__all__ = ["PALETTE", "Awareness", "parse_awareness"]
