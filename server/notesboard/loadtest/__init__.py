"""`notesboard loadtest`: a load generator that checks the wire contract while it measures.

Layers: `accounting` (pure: per-client stream checker, latency histograms), `tally` (what a worker's
clients saw), `client` (one socket on the shared wire client's frames, SeqTracker, urls and backoff),
`pacing` (how senders pace creates), `worker`/`runner` (worker processes and their coordinator),
`procstat` (a server's CPU and memory from /proc), `report` (table, JSON, HTML) and `command` (the thin typer command).
"""

from notesboard.loadtest.accounting import Histogram, StreamChecker
from notesboard.loadtest.runner import LoadConfig, run_load

__all__ = ["Histogram", "LoadConfig", "StreamChecker", "run_load"]
