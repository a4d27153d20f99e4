"""Who a vote is counted for (protocol-collab.md: "the token's subject, or the socket's name plus a per-browser
key when auth is off"). One budget per voter key; the key never leaves the server.

- a token with a `sub` claim: `sub:<subject>`, whatever name or key the client gives;
- otherwise the client's voter key (the socket's `key=`, REST's `voter`), kept by the browser or program
  across reconnects: `key:<key>`. The display name is not part of it, so one browser is one voter on the
  socket and on REST alike, and renaming yourself keeps your votes;
- a socket with neither gets a key of its own (`conn:<random>`): it can vote, but its votes are not its own
  again after a reconnect. REST with auth off needs one (`bad_request`): a request has no connection to tie
  them to; with auth on, a token without `sub` and no key votes as the token itself (`tok:<its hash>`).
"""

from __future__ import annotations

import hashlib
import re
import secrets

from notesboard.contract.errors import BadRequest
from notesboard.core.auth import Grant

KEY_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a voter key: the socket's key=, REST's voter

__all__ = ["KEY_RE", "check_key", "rest_voter", "socket_voter"]


def check_key(key: str, name: str) -> str:
    """A voter key as given (`name`: the parameter, for the message); BadRequest if it is not one."""
    if not KEY_RE.fullmatch(key):
        raise BadRequest(f"{name} must be 1 to 64 letters, digits, _ or -")
    return key


def socket_voter(grant: Grant, key: str | None) -> str:
    if grant.subject is not None:
        return f"sub:{grant.subject}"
    if key:
        return f"key:{key}"
    return f"conn:{secrets.token_hex(8)}"


def rest_voter(grant: Grant, key: str | None, token: str | None = None) -> str:
    if grant.subject is not None:
        return f"sub:{grant.subject}"
    if not key and token:
        return f"tok:{hashlib.sha256(token.encode()).hexdigest()[:32]}"
    if not key:
        raise BadRequest('a vote needs "voter": a key the voting browser or program keeps (or a token with a sub)')
    return f"key:{check_key(key, 'voter')}"
