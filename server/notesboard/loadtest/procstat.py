"""A process's CPU time and memory, read from /proc (Linux): what the server spent on a run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcSample", "read_proc"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True, slots=True)
class ProcSample:
    cpu_s: float  # user + system CPU time of the process (all its threads), seconds
    rss_kb: int  # resident memory, KiB


def read_proc(pid: int) -> ProcSample | None:
    """utime+stime and RSS of `pid` from /proc/PID/stat, or None if it is gone or unreadable."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    utime, stime, rss_pages = int(fields[11]), int(fields[12]), int(fields[21])
    return ProcSample((utime + stime) / _TICKS, rss_pages * _PAGE // 1024)
