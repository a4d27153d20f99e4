"""Typing together on one note (`/y/{board}/{note_id}`): 10 typists at 5 keystrokes/s each, 100 v1 readers
watching the board, for ~20 s, against a fresh server on SQLite.

Measures: convergence (every typist, and REST, end with the same text), keystroke -> another typist's
document (p50/p99 over every keystroke and every other typist: the send time against the moment its
(client, clock) shows in the other's state vector), the server's CPU per keystroke, the v1 events the
readers got (coalesced), and the database bytes of a note's document after 1,000 keystrokes against its
plain text.

    python bench/crdt_typing.py                       # 20 s
    python bench/crdt_typing.py --seconds 10 --typists 5 --readers 50

Writes bench/out/crdt_typing.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.support
from tests.support import ROOT, ServerProcess, sqlite_url

from notesboard.client.ytext import TextEditor
from notesboard.ytext.varint import Reader

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def state_vector(editor: TextEditor) -> dict[int, int]:
    r = Reader(editor.doc.get_state())
    return {r.uint(): r.uint() for _ in range(r.uint())}


class Typist:
    def __init__(self, editor: TextEditor, client_id: int) -> None:
        self.editor = editor
        self.client_id = client_id
        self.sent: list[tuple[int, float]] = []  # (clock after the keystroke, send time)
        self.seen: dict[int, int] = {}  # other client -> clock seen
        self.arrivals: list[tuple[int, int, float]] = []  # (client, clock, time)
        editor.doc.observe(self._on_change)

    def _on_change(self, _: Any) -> None:
        # The document cannot be read inside its observer: look right after (the arrival time is now).
        asyncio.get_running_loop().call_soon(self._look, time.perf_counter())

    def _look(self, now: float) -> None:
        for client, clock in state_vector(self.editor).items():
            if client != self.client_id and clock > self.seen.get(client, 0):
                self.arrivals.append((client, clock, now))
                self.seen[client] = clock

    def keystroke(self, rng: random.Random) -> None:
        text = str(self.editor)
        self.editor.insert(rng.randint(0, len(text)), rng.choice("abcdefghijklmnopqrstuvwxyz "))
        self.sent.append((state_vector(self.editor).get(self.client_id, 0), time.perf_counter()))


async def read_events(url: str, stop: asyncio.Event, counts: list[int]) -> None:
    async with websockets.connect(url, max_size=None) as ws:
        while not stop.is_set():
            try:
                message = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            counts[0] += str(message).count('"type":"event"')


def latencies(typists: list[Typist]) -> list[float]:
    """For every keystroke and every other typist: when the keystroke's clock first showed there."""
    out: list[float] = []
    for sender in typists:
        for other in typists:
            if other is sender:
                continue
            arrivals = [(clock, t) for client, clock, t in other.arrivals if client == sender.client_id]
            i = 0
            for clock, sent in sender.sent:
                while i < len(arrivals) and arrivals[i][0] < clock:
                    i += 1
                if i < len(arrivals):
                    out.append(arrivals[i][1] - sent)
    return out


async def typing(server: ServerProcess, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{server.url}/api/boards/typing/notes", json={"text": "start "})
    nid = int(r.json()["id"])
    stop = asyncio.Event()
    counts = [0]
    readers = [
        asyncio.create_task(read_events(server.ws_url("typing", batch=1), stop, counts)) for _ in range(args.readers)
    ]
    typists = [
        Typist(await TextEditor.open(server.url, "typing", nid, client_id=1000 + i, name=f"t{i}"), 1000 + i)
        for i in range(args.typists)
    ]
    await asyncio.sleep(0.5)  # readers connected
    pid = server.pid
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()

    async def type_away(typist: Typist, seed: int) -> None:
        rng = random.Random(seed)
        await asyncio.sleep(rng.random() / args.rate)
        deadline = t0 + args.seconds
        n = 0
        while time.perf_counter() < deadline:
            typist.keystroke(rng)
            n += 1
            await asyncio.sleep(max(0.0, t0 + rng.random() * 0.02 + n / args.rate - time.perf_counter()))

    await asyncio.gather(*(type_away(t, i) for i, t in enumerate(typists)))
    keystrokes = sum(len(t.sent) for t in typists)
    texts: set[str] = set()
    converged_in = None
    t_end = time.perf_counter()
    for _ in range(200):
        texts = {str(t.editor) for t in typists}
        if len(texts) == 1:
            converged_in = time.perf_counter() - t_end
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # the last announce
    cpu = cpu_seconds(pid) - cpu0
    async with httpx.AsyncClient() as http:
        rest = (await http.get(f"{server.url}/api/boards/typing/notes")).json()["notes"][0]["text"]
    stop.set()
    await asyncio.gather(*readers)
    for t in typists:
        await t.editor.disconnect()
    lat = sorted(latencies(typists))
    return {
        "typists": args.typists,
        "readers": args.readers,
        "seconds": args.seconds,
        "keystrokes": keystrokes,
        "converged": len(texts) == 1 and rest in texts,
        "converged_after_last_keystroke_s": converged_in,
        "text_chars": len(rest),
        "latency_ms": {
            "samples": len(lat),
            "p50": round(1000 * statistics.median(lat), 1) if lat else None,
            "p99": round(1000 * lat[int(0.99 * (len(lat) - 1))], 1) if lat else None,
        },
        "server_cpu_s": round(cpu, 2),
        "server_cpu_per_keystroke_us": round(1e6 * cpu / max(1, keystrokes)),
        "v1_events_per_reader": round(counts[0] / max(1, args.readers), 1),
    }


async def storage(server: ServerProcess, db: Path, keystrokes: int) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        nid = int((await http.post(f"{server.url}/api/boards/store/notes", json={"text": ""})).json()["id"])
    rng = random.Random(7)
    async with (
        await TextEditor.open(server.url, "store", nid) as ed,
        await TextEditor.open(server.url, "store", nid) as check,
    ):
        for i in range(keystrokes):
            text = str(ed)
            if text and i % 5 == 4:  # a backspace now and then
                ed.delete(len(text) - 1, 1)
            else:
                ed.insert(len(text), rng.choice("abcdefghij "))
            if i % 50 == 0:
                await asyncio.sleep(0)
        final = str(ed)
        await check.wait_text(lambda t: t == final, timeout=60)  # committed and relayed
    with sqlite3.connect(db) as conn:
        (size,) = conn.execute("SELECT length(state) FROM note_ydocs WHERE id = ?", (nid,)).fetchone()
    return {"keystrokes": keystrokes, "text_bytes": len(final.encode()), "ydoc_bytes": size}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--typists", type=int, default=10)
    parser.add_argument("--rate", type=float, default=5.0, help="keystrokes per second per typist")
    parser.add_argument("--readers", type=int, default=100)
    parser.add_argument("--keystrokes", type=int, default=1000, help="for the storage measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "notes.db"
        with ServerProcess(sqlite_url(db), Path(tmp) / "server.log") as server:
            try:
                result = {"typing": await typing(server, args), "storage": await storage(server, db, args.keystrokes)}
            except BaseException:
                print(server.log()[-3000:])
                raise
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "crdt_typing.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
