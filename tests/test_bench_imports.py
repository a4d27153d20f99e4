"""Every benchmark script still imports (bench/ is run as `python bench/X.py`, outside the test suite): a
moved module or a missing path entry breaks a benchmark only when someone runs it, so the suite runs each
script's module level (its imports, not its main) in a fresh interpreter started the way a user starts it."""

from __future__ import annotations

import subprocess
import sys

from tests.support import ROOT

# Each script's module level in an interpreter of its own, with sys.path[0] = bench/ as `python bench/X.py`
# gives it, and without running its main.
CHECK = "import runpy, sys; sys.path[0] = sys.argv[1]; runpy.run_path(sys.argv[2], run_name='bench_import_check')"


def test_every_benchmark_script_imports() -> None:
    scripts = sorted((ROOT / "bench").glob("*.py"))
    assert len(scripts) >= 15
    runs = [
        (
            path,
            subprocess.Popen(
                [sys.executable, "-c", CHECK, str(path.parent), str(path)],
                cwd="/",
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ),
        )
        for path in scripts
    ]
    failed = []
    for path, proc in runs:
        out, _ = proc.communicate(timeout=120)
        if proc.returncode != 0:
            failed.append(f"{path.name}: {out.strip().splitlines()[-1] if out.strip() else proc.returncode}")
    assert failed == [], failed
