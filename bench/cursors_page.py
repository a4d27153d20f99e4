"""The board page under many moving cursors (issue #21): long tasks and frame rate in headless Chromium.

A real server (SQLite), N peers on real sockets in a generator process, each moving its cursor on a circle
inside the page's view at HZ (the awareness relay coalesces them per 50 ms tick), and one board page in
Debian's Chromium driven by Playwright. The page counts long tasks (PerformanceObserver 'longtask', tasks
over 50 ms) and animation frames for SECONDS; the same page with no peers is measured first, in the same
run, as the baseline.

    .venv/bin/python bench/cursors_page.py              # 200 peers at 20 Hz, 20 s each
    .venv/bin/python bench/cursors_page.py --peers 50 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.support
from tests.support import ServerProcess, sqlite_url

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
OBSERVE = """() => {
  window.__long = []; window.__frames = 0;
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__long.push(e.duration); })
    .observe({ type: 'longtask', buffered: false });
  const tick = () => { window.__frames += 1; requestAnimationFrame(tick); }; requestAnimationFrame(tick);
}"""


async def _generate(url: str, board: str, peers: int, hz: float, seconds: float) -> None:
    """N sockets, each moving its cursor on its own circle, until `seconds` have passed."""
    import orjson
    import websockets

    ws_url = url.replace("http://", "ws://") + f"/ws/{board}?name=peer"

    async def one(i: int) -> None:
        async with websockets.connect(f"{ws_url}{i}", max_queue=None) as ws:
            await ws.recv()  # the snapshot
            reader = asyncio.create_task(_drain(ws))
            cx, cy, r = 150 + (i % 20) * 50, 120 + (i // 20) * 45, 40
            start = time.monotonic()
            n = 0
            while (now := time.monotonic()) - start < seconds:
                a = (now - start) * 2 + i
                cursor = {"x": round(cx + r * math.cos(a), 1), "y": round(cy + r * math.sin(a), 1)}
                await ws.send(orjson.dumps({"type": "awareness", "cursor": cursor}).decode())
                n += 1
                await asyncio.sleep(max(0.0, start + n / hz - time.monotonic()))
            reader.cancel()

    await asyncio.gather(*(one(i) for i in range(peers)))


async def _drain(ws: object) -> None:
    async for _ in ws:  # type: ignore[attr-defined]
        pass


def _measure(page: object, seconds: float) -> dict[str, float]:
    page.evaluate(OBSERVE)  # type: ignore[attr-defined]
    page.wait_for_timeout(seconds * 1000)  # type: ignore[attr-defined]
    long: list[float] = page.evaluate("window.__long")  # type: ignore[attr-defined]
    frames: int = page.evaluate("window.__frames")  # type: ignore[attr-defined]
    shown: int = page.evaluate(  # type: ignore[attr-defined]
        "document.querySelectorAll('[data-testid=peer-cursor]:not(.idle)').length"
    )
    return {
        "long_per_s": len(long) / seconds,
        "long_ms_max": max(long, default=0.0),
        "fps": frames / seconds,
        "cursors_shown": shown,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", type=int, default=200, help="peers moving their cursors (default 200)")
    parser.add_argument("--hz", type=float, default=20.0, help="cursor moves per second per peer (default 20)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds measured per run (default 20)")
    parser.add_argument("--generate", nargs=2, metavar=("URL", "BOARD"), help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.generate:
        asyncio.run(_generate(opts.generate[0], opts.generate[1], opts.peers, opts.hz, opts.seconds))
        return
    if opts.peers < 1 or opts.hz <= 0 or opts.seconds <= 0:
        parser.error("--peers, --hz and --seconds must be positive")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        env = {"NOTESBOARD_MAX_CONNECTIONS_PER_IP": str(opts.peers + 50)}
        server = ServerProcess(sqlite_url(Path(tmp) / "notes.db"), Path(tmp) / "server.log", env=env).start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(f"{server.url}/b/cursors")
                page.wait_for_selector('[data-testid="connection-status"][data-state="connected"]')
                print(f"baseline: no peers, {opts.seconds:g} s ...", flush=True)
                baseline = _measure(page, opts.seconds)
                generator = subprocess.Popen(
                    [sys.executable, __file__, "--generate", server.url, "cursors", "--peers", str(opts.peers),
                     "--hz", str(opts.hz), "--seconds", str(opts.seconds + 15)]
                )  # fmt: skip
                try:
                    page.wait_for_function(f"window.notesboard.peers.byId.size >= {opts.peers}", timeout=30_000)
                    print(f"{opts.peers} peers at {opts.hz:g} Hz, {opts.seconds:g} s ...", flush=True)
                    loaded = _measure(page, opts.seconds)
                finally:
                    generator.terminate()
                    generator.wait(timeout=30)
                browser.close()
        finally:
            server.stop()
    print(f"\n{'':28}{'baseline':>12}{f'{opts.peers} cursors':>16}")
    for key, label in (
        ("long_per_s", "long tasks (>50 ms) per s"),
        ("long_ms_max", "longest task, ms"),
        ("fps", "animation frames per s"),
        ("cursors_shown", "cursors shown"),
    ):
        print(f"{label:28}{baseline[key]:>12.2f}{loaded[key]:>16.2f}")
    verdict = "met" if loaded["long_per_s"] < 2 else "NOT met"
    print(f"\ngoal: under 2 long tasks per second with {opts.peers} moving cursors: {verdict}")


if __name__ == "__main__":
    main()
