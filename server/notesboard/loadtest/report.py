"""Presenting a load-test result: the summary table (rich), the JSON file and a self-contained HTML page.

The HTML page has no scripts and loads nothing: its charts are inline SVG drawn here.
"""

from __future__ import annotations

import html
import itertools
import math
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

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
    if result["closes"]:
        volume.add_row("server closes seen", ", ".join(f"{k}: {v}" for k, v in sorted(result["closes"].items())))
    console.print(volume)

    lat = Table(title="Latency (ms)", title_justify="left")
    for col in ("", "count", "p50", "p90", "p99", "max"):
        lat.add_column(col, justify="right" if col else "left")
    names = {"connect": "connect+snapshot", "ack": "ack", "delivery": "delivery"}
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


# -- SVG charts ----------------------------------------------------------------------------------------------

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 720, 260, 64, 16, 28, 40
RUN_X = "seconds since the run started (connects included)"
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10.0 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


def line_chart(
    title: str,
    y_label: str,
    lines: dict[str, list[tuple[float, float]]],
    log_y: bool = False,
    x_label: str = "seconds since the load started",
) -> str:
    points = [p for pts in lines.values() for p in pts]
    if not points:
        return f"<p>{html.escape(title)}: no data.</p>"
    x_max = max(1.0, max(x for x, _ in points))
    if log_y:
        positive = [y for _, y in points if y > 0] or [1.0]
        y_lo = 10 ** math.floor(math.log10(min(positive)))
        y_hi = 10 ** math.ceil(math.log10(max(positive)))
        if y_hi <= y_lo:
            y_hi = y_lo * 10
    else:
        y_lo, y_hi = 0.0, _nice_max(max(y for _, y in points))
    pw, ph = W - PAD_L - PAD_R, H - PAD_T - PAD_B

    def sx(x: float) -> float:
        return PAD_L + pw * x / x_max

    def sy(y: float) -> float:
        if log_y:
            y = max(y, y_lo)
            frac = (math.log10(y) - math.log10(y_lo)) / (math.log10(y_hi) - math.log10(y_lo))
        else:
            frac = (y - y_lo) / (y_hi - y_lo)
        return PAD_T + ph * (1 - frac)

    out = [_svg_open(title)]
    ticks = (
        [y_lo * 10**i for i in range(round(math.log10(y_hi / y_lo)) + 1)] if log_y else [y_hi * i / 4 for i in range(5)]
    )
    for t in ticks:
        y = sy(t)
        out.append(f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{W - PAD_R}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end">{t:g}</text>')
    for i in range(6):
        x = x_max * i / 5
        out.append(f'<text x="{sx(x):.1f}" y="{H - PAD_B + 16}" text-anchor="middle">{x:.0f}</text>')
    out.append(f'<text x="{PAD_L + pw / 2}" y="{H - 6}" text-anchor="middle">{html.escape(x_label)}</text>')
    out.append(
        f'<text x="14" y="{PAD_T + ph / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {PAD_T + ph / 2})">{html.escape(y_label)}</text>'
    )
    for i, (name, pts) in enumerate(lines.items()):
        color = COLORS[i % len(COLORS)]
        if pts:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{path}"/>')
        out.append(
            f'<rect x="{PAD_L + 8 + i * 110}" y="8" width="10" height="10" fill="{color}"/>'
            f'<text x="{PAD_L + 22 + i * 110}" y="17">{html.escape(name)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def histogram_chart(title: str, buckets: list[tuple[float, int]], bins: int = 60) -> str:
    """Counts over a logarithmic latency axis (ms)."""
    data = [(v, n) for v, n in buckets if n > 0]
    if not data:
        return f"<p>{html.escape(title)}: no data.</p>"
    lo = 10 ** math.floor(math.log10(max(min(v for v, _ in data), 0.001)))
    hi = 10 ** math.ceil(math.log10(max(max(v for v, _ in data), lo * 10)))
    span = math.log10(hi) - math.log10(lo)
    counts = [0] * bins
    for v, n in data:
        i = int((math.log10(max(v, lo)) - math.log10(lo)) / span * bins)
        counts[min(max(i, 0), bins - 1)] += n
    top = max(counts)
    pw, ph = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    out = [_svg_open(title)]
    bw = pw / bins
    for i, n in enumerate(counts):
        if n:
            h = ph * n / top
            out.append(
                f'<rect x="{PAD_L + i * bw:.1f}" y="{PAD_T + ph - h:.1f}" width="{max(bw - 1, 1):.1f}" '
                f'height="{h:.1f}" fill="{COLORS[0]}"><title>{n:,}</title></rect>'
            )
    decade = lo
    while decade <= hi * 1.0001:
        x = PAD_L + pw * (math.log10(decade) - math.log10(lo)) / span
        out.append(f'<line x1="{x:.1f}" y1="{PAD_T}" x2="{x:.1f}" y2="{PAD_T + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{H - PAD_B + 16}" text-anchor="middle">{decade:g}</text>')
        decade *= 10
    out.append(f'<text x="{PAD_L + pw / 2}" y="{H - 6}" text-anchor="middle">latency (ms, log scale)</text>')
    out.append(f'<text x="{PAD_L - 6}" y="{PAD_T + 4}" text-anchor="end">{top:,}</text>')
    out.append("</svg>")
    return "".join(out)


def _svg_open(title: str) -> str:
    return (
        f"<figure><figcaption>{html.escape(title)}</figcaption>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        f'font-family="sans-serif" font-size="11">'
        f'<rect x="{PAD_L}" y="{PAD_T}" width="{W - PAD_L - PAD_R}" height="{H - PAD_T - PAD_B}" '
        f'fill="none" stroke="#999"/>'
    )


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
