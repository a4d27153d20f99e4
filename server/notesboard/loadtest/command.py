"""The `notesboard loadtest` command: options in, `run_load` out, then the summary, JSON and HTML report."""

from __future__ import annotations

import asyncio
import enum
import resource
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from notesboard.loadtest.preflight import (
    PreflightError,
    check_output,
    check_server_pid,
    check_sources,
    check_url,
    probe_server,
)
from notesboard.loadtest.report import html_report, print_summary, write_json
from notesboard.loadtest.runner import LoadConfig, Progress, run_load
from notesboard.loadtest.worker import GC_THRESHOLD
from notesboard.runtime.gctune import tune_gc

__all__ = ["loadtest"]

err = Console(stderr=True)


class JoinOrder(enum.StrEnum):
    SPREAD = "spread"
    BOARD = "board"


def _opt(help_text: str, **kw: Any) -> Any:
    return typer.Option(help=help_text, **kw)


def loadtest(
    url: Annotated[
        str,
        typer.Argument(help="Base URL of the server to load; every target should be on this machine (127.0.0.1)."),
    ] = "http://127.0.0.1:8000",
    boards: Annotated[
        int, _opt("Number of boards the clients are spread over (client i joins board i mod B).", min=1)
    ] = 1,
    clients: Annotated[
        int, _opt("Number of reading sockets to open; each checks every event of its board.", min=1)
    ] = 10,
    senders: Annotated[
        int, _opt("How many of those clients also create notes (they are spread over the boards too).", min=0)
    ] = 1,
    rate: Annotated[
        float,
        _opt("Creates per second for each sender; 0 sends as fast as acks allow, within the window.", min=0.0),
    ] = 1.0,
    window: Annotated[
        int,
        _opt(
            "Creates a sender may have waiting for their ack; at --rate 0 it keeps this many in flight, "
            "otherwise a send that would exceed it is skipped and counted.",
            min=1,
        ),
    ] = 32,
    duration: Annotated[
        float, _opt("Seconds of sending; connecting before and draining after are not included.", min=0.0, max=3600.0)
    ] = 10.0,
    payload: Annotated[
        int, _opt("Length of each note's text in characters (the send time and client_id fill the start).", min=0)
    ] = 100,
    slow: Annotated[
        int, _opt("Extra clients that read their snapshot and then stop reading, to test slow consumers.", min=0)
    ] = 0,
    cursors: Annotated[
        float,
        _opt(
            "Cursor moves per second for every client (awareness frames); reports cursor latency (send -> seen by "
            "the others) and awareness frames and bytes per client per second. 0: no cursors.",
            min=0.0,
            max=100.0,
        ),
    ] = 0.0,
    procs: Annotated[
        int,
        _opt("Processes the clients are spread over, so that the generator itself is not the bottleneck.", min=1),
    ] = 1,
    sources: Annotated[
        int,
        _opt(
            "Loopback source addresses the sockets connect from, 127.0.0.1 to 127.0.0.N: each offers ~28,000 "
            "ephemeral ports toward one server address, so past that many sockets use more (server on 127.x only).",
            min=1,
            max=254,
        ),
    ] = 1,
    join_order: Annotated[
        JoinOrder,
        _opt(
            "The order sockets connect in: spread (round the boards, a socket each) or board (a board's sockets "
            "together, as people join their own meeting). Presence and awareness frames grow with joins times "
            "watchers, so spread is the heavier.",
            case_sensitive=False,
        ),
    ] = JoinOrder.SPREAD,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the full result (counts, latencies, series) to this JSON file.")
    ] = None,
    report: Annotated[
        Path | None, _opt("Write a self-contained HTML page with latency charts and histograms to this file.")
    ] = None,
    server_pid: Annotated[
        int | None,
        _opt(
            "Process id of the server, to report its CPU time and memory (read from /proc/PID/stat; with its "
            "worker processes, all summed).",
            min=1,
        ),
    ] = None,
    connect_concurrency: Annotated[
        int, _opt("Handshakes in progress at once while the clients connect.", min=1, max=10_000)
    ] = 256,
    drain_timeout: Annotated[
        float,
        _opt("Seconds to wait, after sending stops, for the last acks and for every client to catch up.", min=0.1),
    ] = 10.0,
    board_prefix: Annotated[
        str | None, _opt("Board names are this prefix plus a number (default: lt-<random run id>-).")
    ] = None,
    acked_log: Annotated[
        Path | None,
        _opt("Write every acknowledged create as a JSON line \\[board, seq, client_id], to check durability later."),
    ] = None,
) -> None:
    """Load a notesboard server with many sockets and check the wire contract while measuring it.

    Opens --clients sockets over --boards boards, plus --slow ones that stop reading after their snapshot.

    --senders of the clients create notes, --rate per second each, for --duration seconds; every client reads.

    Checks that every client gets every event of its board once, in seq order (or resumes cleanly after a 1013).

    Checks that every create is acknowledged.

    Reports connect+snapshot, ack and delivery latency (p50/p90/p99/max) and throughput.

    With --cursors HZ every client also moves a cursor HZ times a second: cursor latency and awareness volume.

    With --server-pid it also reports the server's CPU time and memory, read from /proc.

    Exits 1 if anything was lost, duplicated, out of order, unacknowledged or an error.

    Exits 2 on a bad argument or output path and 3 when no server answers, both before any load.
    """
    try:
        if senders > clients:
            raise PreflightError("--senders cannot exceed --clients (senders are some of the clients)")
        check_url(url)
        check_sources(url, sources)
        for option, path in (("--json", json_out), ("--report", report), ("--acked-log", acked_log)):
            if path is not None:
                check_output(option, path)
        if server_pid is not None:
            check_server_pid(server_pid)
        probe_server(url)
    except PreflightError as exc:
        raise _fail(str(exc), exc.code) from None
    _raise_nofile(clients + slow)
    cfg = LoadConfig(
        url=url,
        boards=boards,
        clients=clients,
        senders=senders,
        rate=rate,
        window=window,
        duration=duration,
        payload=payload,
        slow=slow,
        cursors=cursors,
        procs=procs,
        server_pid=server_pid,
        board_prefix=board_prefix or "",
        connect_concurrency=connect_concurrency,
        drain_timeout=drain_timeout,
        record_acks=acked_log is not None,
        sources=sources,
        join_order=join_order.value,
    )
    tune_gc(GC_THRESHOLD)  # this process holds the sockets itself with --procs 1
    out = Console()
    display = _LiveDisplay(err) if err.is_terminal else _PlainDisplay(err)
    try:
        with display:
            result = _run(run_load(cfg, display.update))
    except (RuntimeError, ValueError) as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        raise _fail("interrupted") from None
    acks = result.pop("acked_log", None)
    print_summary(result, out)
    if json_out is not None:
        write_json(result, json_out)
    if report is not None:
        report.write_text(html_report(result), encoding="utf-8")
    if acked_log is not None and acks is not None:
        import orjson

        with acked_log.open("wb") as f:
            for row in acks:
                f.write(orjson.dumps(row) + b"\n")
    if not result["ok"]:
        raise typer.Exit(code=1)


def _run(coro: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def _fail(message: str, code: int = 1) -> typer.Exit:
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)


def _raise_nofile(sockets: int) -> None:
    """Each socket is a file descriptor: raise the soft limit (to the hard one) when the run needs it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = sockets + 256
    if soft != resource.RLIM_INFINITY and soft < need:
        target = hard if hard == resource.RLIM_INFINITY else min(max(need, soft), hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if hard != resource.RLIM_INFINITY and hard < need:
            err.print(f"[yellow]warning:[/] {sockets} sockets need ~{need} file descriptors; the limit is {hard}")


def _progress_line(p: Progress) -> str:
    line = (
        f"{p.elapsed:6.1f}s {p.phase:<9} connected {p.connected:,}/{p.planned:,}  sent {p.sent:,}  acked {p.acked:,}  "
        f"delivered {p.delivered:,}  errors {p.errors:,}  resumes {p.resumes:,}"
    )
    if p.server is not None:
        line += f"  server cpu {p.server.cpu_s:.1f}s rss {p.server.rss_kb / 1024:.0f}MiB"
    return line


class _PlainDisplay:
    """Not a terminal: one plain progress line every few seconds."""

    def __init__(self, console: Console, every: float = 2.0) -> None:
        self.console = console
        self.every = every
        self._last = 0.0

    def __enter__(self) -> _PlainDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self.console.print(_progress_line(p), highlight=False, soft_wrap=True)


class _LiveDisplay:
    """A terminal: a small live table, redrawn on every progress report."""

    def __init__(self, console: Console) -> None:
        self._live = Live(console=console, auto_refresh=False, transient=False)
        self._prev: tuple[float, int, int] | None = None

    def __enter__(self) -> _LiveDisplay:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._live.__exit__(*exc)

    def update(self, p: Progress) -> None:
        rate_d = rate_a = 0.0
        if self._prev is not None and p.elapsed > self._prev[0]:
            dt = p.elapsed - self._prev[0]
            rate_d = (p.delivered - self._prev[1]) / dt
            rate_a = (p.acked - self._prev[2]) / dt
        self._prev = (p.elapsed, p.delivered, p.acked)
        t = Table(title=f"notesboard loadtest: {p.phase}, {p.elapsed:.1f}s", title_justify="left")
        for col in ("connected", "sent", "acked", "acks/s", "delivered", "deliveries/s", "errors", "resumes"):
            t.add_column(col, justify="right")
        t.add_row(
            f"{p.connected:,}/{p.planned:,}",
            f"{p.sent:,}",
            f"{p.acked:,}",
            f"{rate_a:,.0f}",
            f"{p.delivered:,}",
            f"{rate_d:,.0f}",
            f"[red]{p.errors:,}[/]" if p.errors else "0",
            f"{p.resumes:,}",
        )
        if p.server is not None:
            t.caption = f"server: CPU {p.server.cpu_s:.1f}s, RSS {p.server.rss_kb / 1024:.0f} MiB"
        self._live.update(t, refresh=True)
