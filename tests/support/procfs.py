"""Sockets of a process tree, from /proc (Linux), tolerant of processes and descriptors that go away.

A process opens and closes descriptors while we look: listing /proc/PID/fd and then reading each link races
with that, so a link that vanished in between is skipped (it was not a socket we could count anyway), and so
is a child process that exited.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ESTABLISHED", "LISTEN", "children", "listening_ports", "socket_counts"]

ESTABLISHED = "01"
LISTEN = "0A"


def children(pid: int) -> list[int]:
    """Direct children of `pid` (every thread's), without multiprocessing's resource tracker."""
    kids: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []
    for task in tasks:
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
    found = []
    for kid in kids:
        try:
            if b"resource_tracker" in Path(f"/proc/{kid}/cmdline").read_bytes():
                continue
        except OSError:
            continue
        found.append(kid)
    return found


def _socket_inodes(pid: int) -> set[str]:
    """Inodes of the sockets `pid` holds open right now (empty if it is gone)."""
    inodes: set[str] = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed since the listing (FileNotFoundError), or the process exited
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    return inodes


def _tcp_table(state: str) -> dict[str, int]:
    """inode -> local port, for TCP sockets (v4 and v6) in `state`."""
    found: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == state:
                found[parts[9]] = int(parts[1].rsplit(":", 1)[1], 16)
    return found


def listening_ports(pid: int) -> set[int]:
    """TCP ports that `pid` or its children listen on."""
    table = _tcp_table(LISTEN)
    ports: set[int] = set()
    for p in (pid, *children(pid)):
        ports |= {table[i] for i in _socket_inodes(p) if i in table}
    return ports


def socket_counts(pids: list[int], port: int, state: str) -> dict[int, int]:
    """How many sockets on local `port` in `state` (ESTABLISHED, LISTEN) each of `pids` holds."""
    table = _tcp_table(state)
    return {p: sum(1 for i in _socket_inodes(p) if table.get(i) == port) for p in pids}
