"""What one test server start costs: `python -m notesboard serve` exec'd vs forked from the test launcher.

ServerProcess forks its servers from a preforked launcher (tests.support.launcher) unless told not to;
this starts N servers each way on fresh SQLite files, in the same run, and prints the wall time until
/healthz answers and the server's own CPU time until then (from /proc), plus the launcher's one-off start.

    python bench/server_start.py            # 5 of each
    python bench/server_start.py -n 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.support
from tests.support import ServerProcess, launcher, sqlite_url

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def starts(tmp: Path, fork: bool, n: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for i in range(n):
        srv = ServerProcess(sqlite_url(tmp / f"{fork}-{i}.db"), tmp / f"{fork}-{i}.log", fork=fork)
        t0 = time.perf_counter()
        srv.start()
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu_s(srv.pid))
        srv.stop()
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="servers started each way")
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t0 = time.perf_counter()
        zygote = launcher._get()
        once = time.perf_counter() - t0
        print(f"launcher start (once per test process): {once:.2f} s wall, {cpu_s(zygote.proc.pid):.2f} s CPU")
        for label, fork in (("exec python -m notesboard serve", False), ("fork from the launcher", True)):
            walls, cpus = starts(tmp, fork, n)
            print(
                f"{label:34} median of {n}: {statistics.median(walls):.3f} s wall, "
                f"{statistics.median(cpus):.3f} s server CPU until healthy"
            )


if __name__ == "__main__":
    main()
