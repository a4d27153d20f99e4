"""Optional access control: signed tokens (HS256 JWT) that grant a role on the boards matching a pattern.

A token's claims: `board` (a glob such as `team-*`, or `*`), `role` (`read`, `write`, or `facilitate`:
write and also change the board session), `exp`, and optionally `sub` (who holds it: votes are counted per
subject, `core/voters.py`). With no
`auth_secret` configured, everything is allowed (the default for a board bound to 127.0.0.1). Origin
checks are separate (`origin_allowed`) and always on: they stop other web sites from using a visitor's
browser against this server (cross-site WebSocket hijacking).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal
from urllib.parse import urlsplit

import jwt

from notesboard.contract.errors import Forbidden, Unauthorized

__all__ = [
    "MIN_SECRET_BYTES",
    "ROLES",
    "SECRET_HINT",
    "SUBJECT_MAX",
    "Grant",
    "authorize",
    "check_pattern",
    "check_secret",
    "mint",
    "new_secret",
    "origin_allowed",
]

Role = Literal["read", "write", "facilitate"]
ROLES: tuple[Role, ...] = ("read", "write", "facilitate")  # each grants what the ones before it do
ALGORITHM = "HS256"
# RFC 7518 3.2: an HS256 key must be at least as long as the hash output (32 bytes). Shorter ones can be
# brute-forced offline from any single token.
MIN_SECRET_BYTES = 32
SUBJECT_MAX = 128
SECRET_HINT = "make one with `notesboard token --new-secret`"
# Board names' alphabet plus the glob characters fnmatch understands; anything else can never match a board.
PATTERN_RE = re.compile(r"[A-Za-z0-9_*?\[\]-]{1,128}")


@dataclass(frozen=True, slots=True)
class Grant:
    pattern: str
    role: Role
    expires: float | None  # epoch seconds; None when auth is off
    subject: str | None = None  # the token's `sub`: who holds it (None: not said, or auth off)

    def can_write(self) -> bool:
        return self.role in ("write", "facilitate")

    def can_facilitate(self) -> bool:
        """May change the board session (vote, writing mode, timer); with auth off everyone may."""
        return self.role == "facilitate"


OPEN = Grant("*", "facilitate", None)


def new_secret() -> str:
    """A strong random secret for --auth-secret (32 random bytes, URL-safe text)."""
    return secrets.token_urlsafe(MIN_SECRET_BYTES)


def check_secret(secret: str) -> str:
    """The secret, if long enough for HS256; ValueError (with a hint) if not."""
    size = len(secret.encode())
    if size < MIN_SECRET_BYTES:
        raise ValueError(f"the secret is {size} bytes; it needs at least {MIN_SECRET_BYTES} ({SECRET_HINT})")
    return secret


def check_pattern(pattern: str) -> str:
    """A token's board pattern: board-name characters and the glob characters * ? [ ]; ValueError if not."""
    if not PATTERN_RE.fullmatch(pattern):
        raise ValueError(
            f"board pattern {pattern[:80]!r} can match no board: use letters, digits, _ and - "
            "with the glob characters * ? [ ] (e.g. 'team-*', or '*' for all)"
        )
    return pattern


def mint(secret: str, pattern: str, role: Role, ttl: float, subject: str | None = None) -> str:
    now = int(time.time())
    claims: dict[str, object] = {"board": pattern, "role": role, "iat": now, "exp": now + int(ttl)}
    if subject is not None:
        claims["sub"] = subject
    return jwt.encode(claims, secret, ALGORITHM)


def authorize(secret: str | None, token: str | None, board: str | None) -> Grant:
    """The grant a request has on `board` (None: any board, for listings). Raises Unauthorized/Forbidden."""
    if not secret:
        return OPEN
    if not token:
        raise Unauthorized("this server requires a token (?token= on the socket, Authorization: Bearer on REST)")
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "board", "role"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"invalid token: {exc}") from None
    pattern, role = claims.get("board"), claims.get("role")
    if not isinstance(pattern, str) or role not in ROLES:
        raise Unauthorized("invalid token: bad board or role claim")
    if board is not None and not fnmatchcase(board, pattern):
        raise Forbidden(f"token does not grant board {board!r}")
    subject = claims.get("sub")
    if subject is not None and (not isinstance(subject, str) or not 1 <= len(subject) <= SUBJECT_MAX):
        raise Unauthorized("invalid token: bad sub claim")
    return Grant(pattern, role, float(claims["exp"]), subject)


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """No Origin (not a browser), the same origin as the Host, or one listed (`*` allows any)."""
    if origin is None or "*" in allowed or origin in allowed:
        return True
    return host is not None and urlsplit(origin).netloc.lower() == host.lower()
