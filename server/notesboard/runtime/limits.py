"""The process's file-descriptor limit against `max_connections`, checked once at start-up.

Every socket is a file descriptor. A limit below `max_connections` (a common 1024 default) would refuse
connections long before the cap with an accept() error in uvicorn's log, far from its cause. So at start-up
the soft limit is raised as far as the hard one allows, and one log line says whether the limit covers
`max_connections` (plus a few descriptors for the database, the broker, the listening socket and logs).
"""

from __future__ import annotations

import logging
import resource

__all__ = ["SPARE", "check_descriptors", "descriptor_verdict"]

log = logging.getLogger("notesboard")

SPARE = 64  # descriptors besides client sockets: database and broker connections, listening socket, files


def descriptor_verdict(max_connections: int, soft: int, hard: int) -> tuple[int, int, str]:
    """(new soft limit, log level, the line to log) for a process that may hold `max_connections` sockets."""
    need = max_connections + SPARE
    unlimited = resource.RLIM_INFINITY
    target = soft if soft == unlimited or soft >= need else (need if hard == unlimited else min(need, hard))
    if target == unlimited or target >= need:
        shown = "unlimited" if target == unlimited else f"{target:,}"
        return (
            target,
            logging.INFO,
            (f"file descriptors: limit {shown} covers max_connections {max_connections:,} (+{SPARE} spare)"),
        )
    return (
        target,
        logging.WARNING,
        (
            f"file descriptors: limit {target:,} (hard limit {hard:,}) is below max_connections {max_connections:,}"
            f" + {SPARE}: sockets past about {max(0, target - SPARE):,} will be refused by the system; raise the hard"
            f" limit (ulimit -Hn, LimitNOFILE=) or lower --max-connections, or run --workers N to spread them"
        ),
    )


def check_descriptors(max_connections: int) -> None:
    """Raise the soft limit toward what `max_connections` needs, then log the one line that says so."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target, level, line = descriptor_verdict(max_connections, soft, hard)
    if target != soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            level = logging.WARNING
            line = f"file descriptors: could not raise the limit from {soft:,} to {target:,} ({exc})"
    log.log(level, line)
