"""Where the source checkout is: the test support lives in it (tests/support/), never in an installed wheel."""

from __future__ import annotations

from pathlib import Path

__all__ = ["ROOT"]

ROOT = Path(__file__).resolve().parents[2]  # the repository (tests/support/paths.py)
