"""The load-test report's charts: inline SVG line charts and histograms, drawn without any library or script."""

from __future__ import annotations

import html
import math

__all__ = ["RUN_X", "histogram_chart", "line_chart"]

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
