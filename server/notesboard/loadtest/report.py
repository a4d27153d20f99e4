"""Presenting a load-test result: the summary table (rich), the JSON file and a self-contained HTML page.

The HTML page has no scripts and loads nothing: its charts are inline SVG (`charts.py`).
"""

from __future__ import annotations

import html
import itertools
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from notesboard.loadtest.charts import RUN_X, histogram_chart, line_chart

__all__ = ["html_report", "print_summary", "write_json"]

# The server's CPU figures, each named for exactly what it divides. The load phase's CPU pays for the creates
# *and* their fan-out together, so neither quotient is the cost of one alone.
LABELS = (
    ("CPU, load phase / deliveries (us; includes the creates)", "cpu_us_per_delivery", 2),
    ("CPU, load phase / acked creates (us; includes their fan-out)", "cpu_us_per_create", 1),
    ("CPU, connect phase / connects (us; includes the snapshots)", "cpu_us_per_connect", 1),
)
CHECKS = ("lost", "duplicated", "out_of_order", "errors", "unacked", "ack_errors", "connect_failed")


def write_json(result: dict[str, Any], path: Path) -> None:
    path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n")


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_summary(result: dict[str, Any], console: Console) -> None:
    c = result["counts"]
    checks = Table(title="Contract checks", title_justify="left", show_header=True)
    checks.add_column("check")
    checks.add_column("count", justify="right")
    for key in CHECKS:
        n = c[key]
        checks.add_row(key.replace("_", " "), f"[red]{n:,}[/]" if n else "0")
    console.print(checks)

    volume = Table(title="Volume", title_justify="left")
    volume.add_column("what")
    volume.add_column("value", justify="right")
    volume.add_row("clients connected", f"{c['connected']:,} of {c['clients']:,} (+{c['slow']:,} slow)")
    volume.add_row("creates sent / acked", f"{c['sent']:,} / {c['acked']:,}")
    volume.add_row("sends skipped (window full)", _fmt(c["skipped_sends"]))
    volume.add_row("deliveries expected / received", f"{c['expected_deliveries']:,} / {c['delivered']:,}")
    volume.add_row("recovered by resume / resumes", f"{c['recovered']:,} / {c['resumes']:,}")
    volume.add_row("frames / messages received", f"{c['frames']:,} / {c['messages']:,}")
    r = result["rates"]
    volume.add_row("connects/s", _fmt(r["connects_per_s"]))
    volume.add_row("acks/s", _fmt(r["acks_per_s"]))
    volume.add_row("deliveries/s", _fmt(r["deliveries_per_s"]))
    if result["slow_fates"]:
        volume.add_row("slow clients", ", ".join(f"{k}: {v}" for k, v in sorted(result["slow_fates"].items())))
    aw = result.get("awareness")
    if aw:
        volume.add_row("cursor moves sent / skipped", f"{aw['moves_sent']:,} / {aw['moves_skipped']:,}")
        volume.add_row(
            "awareness per client per s: frames / entries / bytes",
            f"{_fmt(aw['frames_per_client_s'], 1)} / {_fmt(aw['entries_per_client_s'], 1)} / "
            f"{_fmt(aw['bytes_per_client_s'])}",
        )
    if result["closes"]:
        volume.add_row("server closes seen", ", ".join(f"{k}: {v}" for k, v in sorted(result["closes"].items())))
    console.print(volume)

    lat = Table(title="Latency (ms)", title_justify="left")
    for col in ("", "count", "p50", "p90", "p99", "max"):
        lat.add_column(col, justify="right" if col else "left")
    names = {"connect": "connect+snapshot", "ack": "ack", "delivery": "delivery"}
    if result.get("awareness"):
        names["cursor"] = "cursor (send -> seen)"
    for key, label in names.items():
        s = result["latency_ms"][key]
        lat.add_row(label, _fmt(s["count"]), *(_fmt(s[q], 2) for q in ("p50", "p90", "p99", "max")))
    console.print(lat)

    srv = result.get("server")
    gen = result["generator"]
    res = Table(title="Resources", title_justify="left")
    res.add_column("what")
    res.add_column("value", justify="right")
    if srv:
        res.add_row(
            "server CPU: connect / load phase (s)", f"{srv['cpu_s']['connect']:.2f} / {srv['cpu_s']['load']:.2f}"
        )
        for label, key, digits in LABELS:
            res.add_row(f"server {label}", _fmt(srv[key], digits))
        rss = srv["rss_kb"]
        res.add_row(
            "server RSS start / connected / max (MiB)",
            f"{rss['start'] / 1024:.1f} / {rss['connected'] / 1024:.1f} / {rss['max'] / 1024:.1f}",
        )
        res.add_row("server RSS per connection (KiB)", _fmt(srv["rss_kb_per_connection"], 1))
    res.add_row(f"generator CPU, {gen['procs']} process(es) (s)", _fmt(gen["cpu_s"], 2))
    res.add_row("generator CPU per frame, load phase (us)", _fmt(gen["cpu_us_per_frame"], 2))
    console.print(res)

    if result["errors"]:
        errs = Table(title="Errors", title_justify="left")
        errs.add_column("error")
        errs.add_column("count", justify="right")
        for k, v in result["errors"].items():
            errs.add_row(k, f"{v:,}")
        console.print(errs)
    for note in result["notes"]:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    verdict = (
        "[bold green]PASS[/]: every event once, in order; every create acked" if result["ok"] else "[bold red]FAIL[/]"
    )
    console.print(verdict)


def _table(rows: list[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(_fmt(v, 2))}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def html_report(result: dict[str, Any]) -> str:
    """A self-contained HTML page: settings, checks, latency tables and inline SVG charts."""
    cfg, c = result["config"], result["counts"]
    verdict = "PASS" if result["ok"] else "FAIL"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>notesboard load test: {verdict}</title>",
        "<style>body{font-family:sans-serif;max-width:760px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "th{text-align:left;background:#f4f4f4}figure{margin:1.5em 0}figcaption{font-weight:bold}"
        ".pass{color:#080}.fail{color:#c00}</style></head><body>",
        f"<h1>notesboard load test: <span class='{verdict.lower()}'>{verdict}</span></h1>",
        "<h2>Settings</h2>",
        _table([(k, v) for k, v in cfg.items() if k not in ("record_acks",)]),
        "<h2>Contract checks</h2>",
        _table([(k.replace("_", " "), c[k]) for k in CHECKS]),
    ]
    if result["errors"]:
        parts.append(_table(list(result["errors"].items())))
    parts.append("<h2>Volume and rates</h2>")
    parts.append(
        _table(
            [
                ("clients connected", c["connected"]),
                ("creates sent", c["sent"]),
                ("creates acked", c["acked"]),
                ("deliveries expected", c["expected_deliveries"]),
                ("deliveries received", c["delivered"]),
                ("resumes", c["resumes"]),
                *((k.replace("_", " "), v) for k, v in result["rates"].items()),
                *((f"slow clients: {k}", v) for k, v in result["slow_fates"].items()),
            ]
        )
    )
    lat_rows = "".join(
        f"<tr><th>{k}</th>"
        + "".join(f"<td>{_fmt(s[q], 2)}</td>" for q in ("count", "p50", "p90", "p99", "max"))
        + "</tr>"
        for k, s in result["latency_ms"].items()
    )
    parts.append(
        "<h2>Latency (ms)</h2><table><tr><th></th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>"
        f"{lat_rows}</table>"
    )
    series = result["series_ms"]
    for key, label in (("delivery", "Delivery latency over time"), ("ack", "Ack latency over time")):
        rows = series.get(key) or []
        lines = {q: [(float(r["t"]), float(r[q])) for r in rows] for q in ("p50", "p99", "max")}
        parts.append(line_chart(label, "ms (log scale)", lines, log_y=True))
    for key, label in (("delivery", "Delivery latency histogram"), ("ack", "Ack latency histogram")):
        parts.append(histogram_chart(label, [(float(v), int(n)) for v, n in result["histograms_ms"].get(key, [])]))
    srv = result.get("server")
    if srv:
        parts.append("<h2>Server</h2>")
        parts.append(
            _table(
                [
                    *((label, srv[key]) for label, key, _ in LABELS),
                    ("RSS per connection (KiB)", srv["rss_kb_per_connection"]),
                    ("RSS max (MiB)", srv["rss_kb"]["max"] / 1024),
                ]
            )
        )
        tl = srv["timeline"]
        parts.append(
            line_chart("Server RSS", "MiB", {"RSS": [(float(p["t"]), p["rss_kb"] / 1024) for p in tl]}, x_label=RUN_X)
        )
        cpu = [
            (float(b["t"]), (b["cpu_s"] - a["cpu_s"]) / max(b["t"] - a["t"], 1e-9) * 100)
            for a, b in itertools.pairwise(tl)
        ]
        parts.append(line_chart("Server CPU", "% of one core", {"CPU": cpu}, x_label=RUN_X))
    parts.append("</body></html>\n")
    return "".join(parts)
