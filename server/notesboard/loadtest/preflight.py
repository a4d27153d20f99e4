"""Checks before any load: arguments, output paths, and that a server answers at all.

A run can take minutes; an unwritable --report or a server that is down should cost a second, not the run.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["PreflightError", "check_output", "check_server_pid", "check_url", "probe_server"]

USAGE = 2  # a bad argument or output path: the command line's own exit status
UNREACHABLE = 3  # nothing answers at the URL


class PreflightError(Exception):
    def __init__(self, message: str, code: int = USAGE) -> None:
        super().__init__(message)
        self.code = code


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        raise PreflightError(f"URL {url!r} is not like http://127.0.0.1:8000")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise PreflightError(f"URL {url!r} has a bad port") from None


def check_output(option: str, path: Path) -> None:
    """The file can be created or overwritten: its folder exists and is writable, it is not a folder."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise PreflightError(f"{option} {path}: is a folder; give a file name")
    if not folder.is_dir():
        raise PreflightError(f"{option} {path}: folder {folder} does not exist")
    if path.exists() and not os.access(path, os.W_OK):
        raise PreflightError(f"{option} {path}: the file is not writable")
    if not path.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise PreflightError(f"{option} {path}: folder {folder} is not writable")


def check_server_pid(pid: int) -> None:
    if not Path(f"/proc/{pid}/stat").exists():
        raise PreflightError(f"--server-pid {pid}: no such process (or no /proc to read it from)")


def probe_server(url: str, timeout: float = 3.0) -> None:
    """Raise PreflightError (exit 3) unless something answers HTTP at the URL; a 503 /healthz counts as down."""
    import httpx

    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    health = parts._replace(scheme=scheme, path="/healthz", query="", fragment="").geturl()
    try:
        r = httpx.get(health, timeout=timeout)
    except httpx.HTTPError as exc:
        raise PreflightError(f"no server at {url}: {exc or type(exc).__name__}", UNREACHABLE) from None
    if r.status_code == 503:
        raise PreflightError(f"the server at {url} is not healthy (/healthz: 503)", UNREACHABLE)


def check_sources(url: str, sources: int) -> None:
    """Several source addresses are loopback addresses (127.0.0.N): only for a server on loopback."""
    if sources <= 1:
        return
    host = urlsplit(url).hostname or ""
    if not host.startswith("127."):
        raise PreflightError(f"--sources needs a server on a loopback address (127.x.x.x), not {host!r}")
