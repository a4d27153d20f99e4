"""The garbage collector's pace for a process holding many sockets.

Python starts a collection of the youngest generation every 700 net allocations of container objects, and
the older ones after 10 of those. A server (or a load generator) holding 15,000 sockets keeps millions of
long-lived objects while every frame allocates short-lived ones; at the default pace the collector took about
a fifth of a server's CPU during a join storm and a third of the generator's (docs/performance.md, issue
#25). Garbage without cycles is freed by reference counting either way; a larger threshold only lets
cyclic garbage wait longer, which at these sizes costs no measurable memory.
"""

from __future__ import annotations

import gc

__all__ = ["OLDER", "tune_gc"]

OLDER = (50, 1000)  # collections of the younger generation before the next one is collected (measured pair)


def tune_gc(threshold: int) -> tuple[int, int, int]:
    """Collect the youngest generation every `threshold` net allocations (0: Python's default pace); returns
    the thresholds now in force."""
    if threshold > 0:
        gc.set_threshold(threshold, *OLDER)
    return gc.get_threshold()
