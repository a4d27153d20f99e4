"""The load tester's server figures count a process with its descendants (the workers of `serve --workers`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from notesboard.loadtest.procstat import read_one, read_proc

HOLD = "import time; b = bytearray(64 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); time.sleep(30)"


def test_a_process_counts_with_its_children() -> None:
    """A child holding 64 MiB (touched, so resident) shows in the parent's figure, not in its own alone."""
    child = subprocess.Popen([sys.executable, "-c", HOLD])
    try:
        deadline = time.monotonic() + 10
        while (sample := read_one(child.pid)) is None or sample.rss_kb < 64 * 1024:
            assert time.monotonic() < deadline, "the child never held its 64 MiB"
            time.sleep(0.05)
        alone = read_one(os.getpid())
        tree = read_proc(os.getpid())
        assert alone is not None and tree is not None
        assert tree.rss_kb >= alone.rss_kb + 64 * 1024
        assert tree.cpu_s >= alone.cpu_s
    finally:
        child.kill()
        child.wait()


def test_a_gone_process_is_none() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert read_proc(child.pid) is None
