"""A note's fields, limits and patterns, written once.

Everything that checks or describes a note reads them from here: the validators (`validate.py`), the
published schemas (`api_models.py` -> `/openapi.json`, `/asyncapi.json`), the Python client (`notesboard.client`
checks board names), and the browser client, whose `client/contract.js` is generated from this module by
`make docs` (`jscontract.py`; a test fails when the two differ). Limits that are settings (`max_text`) live in
`runtime/config.py`; the generated file carries their defaults.
"""

from __future__ import annotations

import re

__all__ = [
    "BOARD_PATTERN",
    "BOARD_RE",
    "CLIENT_ID_MAX",
    "CLIENT_ID_PATTERN",
    "CLIENT_ID_RE",
    "COLOR_PATTERN",
    "COORD_LIMIT",
    "DEFAULT_H",
    "DEFAULT_W",
    "DEFAULT_Z",
    "KINDS",
    "MAX_INT",
    "NAME_MAX",
    "SIZE_MAX",
    "SIZE_MIN",
    "Z_LIMIT",
]

# Patterns, as anchored regular expressions that Python, JSON Schema and JavaScript read alike.
BOARD_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"  # a board name (a share link: keep it URL-safe)
CLIENT_ID_MAX = 64
CLIENT_ID_PATTERN = rf"^[A-Za-z0-9_.:-]{{1,{CLIENT_ID_MAX}}}$"  # a change's idempotency key, echoed in its ack
COLOR_PATTERN = r"^#[0-9A-Fa-f]{6}$"

# fullmatch() forms of the patterns above, for code that checks a string.
BOARD_RE = re.compile(BOARD_PATTERN[1:-1])
CLIENT_ID_RE = re.compile(CLIENT_ID_PATTERN[1:-1])

# Geometry: board coordinates, a note's size and its stacking order.
COORD_LIMIT = 1_000_000.0  # |x|, |y| at most this (finite)
SIZE_MIN, SIZE_MAX = 60.0, 4000.0  # w, h
Z_LIMIT = 1_000_000_000  # |z| at most this
DEFAULT_W, DEFAULT_H, DEFAULT_Z = 208.0, 150.0, 0  # a note that never had a size or stacking order

# What a note is (protocol-collab, board session): a sticky note, or a section (a titled area grouping the notes
# whose centre lies inside it; its `text` is the title). Set at creation, never changed.
KINDS = ("note", "section")

NAME_MAX = 64  # a display name: the socket's `name=`, a REST note's `author`; printable characters only
MAX_INT = 2**63 - 1  # ids, versions, seqs
