"""Time from navigation to every note shown, for a large board in headless Chromium (Debian's /usr/bin/chromium).

A fresh server (SQLite) gets N notes through the import endpoint; then the board page is opened in a new
browser context and the time is read in the page: from navigation start (performance.timeOrigin) until the
DOM holds N note elements and a frame has been painted after that. Each client is measured --runs times;
the median is reported.

Baseline: the client before issue #11 (git commit edc2a8f, it asks no `limit=`, so the server is started with
NOTESBOARD_SNAPSHOT_LIMIT=N for it, or it would show only the newest 1,000).

    python bench/board_load.py                    # 5,000 notes, this client and the baseline
    python bench/board_load.py --notes 1000 --runs 5
    python bench/board_load.py --no-baseline

Writes bench/out/board_load.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.support
from tests.support import ROOT, ServerProcess

BASELINE_COMMIT = "edc2a8f"
CHROMIUM = "/usr/bin/chromium"

WAIT_JS = """(n) => new Promise((resolve) => {
  const check = () => {
    if (document.querySelectorAll('[data-testid="note"]').length >= n) {
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
    } else {
      setTimeout(check, 5);
    }
  };
  check();
})"""


def export_of(n: int) -> dict[str, Any]:
    """A notesboard-export with n notes in a grid."""
    notes = [
        {
            "id": i + 1,
            "text": f"note {i} " + "lorem ipsum dolor sit amet " * (1 + i % 4),
            "color": ["#fde68a", "#93c5fd", "#f9a8d4", "#86efac"][i % 4],
            "x": 24 + (i % 50) * 232,
            "y": 24 + (i // 50) * 174,
            "author": f"user{i % 7}",
        }
        for i in range(n)
    ]
    return {"format": "notesboard-export", "version": 1, "board": "big", "notes": notes}


def baseline_client(tmp: Path) -> Path:
    """The client folder as it was at BASELINE_COMMIT."""
    out = tmp / "baseline-client"
    out.mkdir()
    archive = subprocess.run(
        ["git", "archive", BASELINE_COMMIT, "client"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out / "client"


def measure(label: str, n: int, runs: int, env: dict[str, str], tmp: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    db = tmp / f"{label}.db"
    srv = ServerProcess(f"sqlite+aiosqlite:///{db}", tmp / f"{label}.log", env=env, fork=False).start()
    try:
        res = httpx.post(f"{srv.url}/api/boards/big/import", json=export_of(n), timeout=300)
        res.raise_for_status()
        times = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                page.goto(f"{srv.url}/b/big", wait_until="commit")
                done_ms = page.evaluate(WAIT_JS, n)
                shown = page.evaluate("document.querySelectorAll('[data-testid=\"note\"]').length")
                assert shown >= n, f"{label}: only {shown} of {n} notes shown"
                times.append(done_ms / 1000)
                context.close()
            browser.close()
    finally:
        srv.stop()
    return {"client": label, "notes": n, "runs": times, "median_s": statistics.median(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=5000, help="notes on the board (default 5000)")
    parser.add_argument("--runs", type=int, default=3, help="page loads per client (default 3)")
    parser.add_argument("--no-baseline", action="store_true", help="measure only the current client")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        results.append(measure("current", args.notes, args.runs, {}, tmp))
        if not args.no_baseline:
            env = {"NOTESBOARD_CLIENT_DIR": str(baseline_client(tmp)), "NOTESBOARD_SNAPSHOT_LIMIT": str(args.notes)}
            results.append(measure(f"baseline-{BASELINE_COMMIT}", args.notes, args.runs, env, tmp))
    print(f"{'client':<20} {'notes':>6} {'median s':>9}  runs")
    for r in results:
        print(f"{r['client']:<20} {r['notes']:>6} {r['median_s']:>9.2f}  {', '.join(f'{t:.2f}' for t in r['runs'])}")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "board_load.json").write_text(json.dumps({"measured_at": time.time(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
