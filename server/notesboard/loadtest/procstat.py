"""A process's CPU time and memory, read from /proc (Linux): what the server spent on a run.

The server's pid counts with its descendants: `notesboard serve --workers N` is a parent with N worker
processes, and the run's figures are all of them together."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcSample", "read_one", "read_proc"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True, slots=True)
class ProcSample:
    cpu_s: float  # user + system CPU time of the process (all its threads), seconds
    rss_kb: int  # resident memory, KiB


def read_one(pid: int) -> ProcSample | None:
    """utime+stime and RSS of `pid` alone from /proc/PID/stat, or None if it is gone or unreadable."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    utime, stime, rss_pages = int(fields[11]), int(fields[12]), int(fields[21])
    return ProcSample((utime + stime) / _TICKS, rss_pages * _PAGE // 1024)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.extend(int(c) for c in (task / "children").read_text().split())
    except OSError:
        pass  # gone, or a kernel without /proc/PID/task/TID/children: the process alone
    return found


def read_proc(pid: int) -> ProcSample | None:
    """`pid` and all its descendants, summed (a worker that exited is no longer counted); None if `pid` is gone."""
    top = read_one(pid)
    if top is None:
        return None
    cpu, rss = top.cpu_s, top.rss_kb
    todo = _children(pid)
    while todo:
        child = todo.pop()
        sample = read_one(child)
        if sample is not None:
            cpu, rss = cpu + sample.cpu_s, rss + sample.rss_kb
            todo.extend(_children(child))
    return ProcSample(cpu, rss)
