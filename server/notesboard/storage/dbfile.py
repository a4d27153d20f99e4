"""Noticing that the SQLite file was deleted or replaced under a running server.

SQLite keeps writing to the inode it opened: after `rm notes.db` (or a `cp`/`mv` of another file over it)
every acknowledged write would go to a file no one can open again, and the next start would begin empty or
from the replacement. The store records the file's identity (device, inode) when it opens it and compares
on every write batch and health check; once they differ, writes are refused (`unavailable`), `/healthz`
answers 503 and one ERROR line says what happened and what to do.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

__all__ = ["FileIdentity", "sqlite_file"]

log = logging.getLogger("notesboard.store")


def sqlite_file(url: str) -> Path | None:
    """The database file of a sqlite URL; None for Postgres and in-memory databases."""
    if not url.startswith("sqlite"):
        return None
    raw = url.split("://", 1)[1].split("?", 1)[0]
    if raw in ("", "/") or ":memory:" in raw:
        return None
    return Path(raw[1:] if raw.startswith("/") else raw).absolute()


class FileIdentity:
    """The (st_dev, st_ino) of the file at open time; `problem()` says how the path differs now, if it does."""

    def __init__(self, path: Path) -> None:
        self.path = path
        st = os.stat(path)
        self._identity = (st.st_dev, st.st_ino)
        self._reported: str | None = None

    def problem(self) -> str | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            why = "was deleted"
        except OSError as exc:
            why = f"cannot be checked ({exc.strerror or exc})"
        else:
            if (st.st_dev, st.st_ino) == self._identity:
                return None
            why = "was replaced by another file"
        if self._reported != why:
            self._reported = why
            log.error(
                "database file %s %s while the server was running: writes are refused and /healthz fails; "
                "put the right file back (or restore a backup) and restart the server",
                self.path,
                why,
            )
        return why
