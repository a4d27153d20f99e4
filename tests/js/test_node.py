"""The client's pure modules (backoff, queue, seq, push, socket, notes) under node's own test runner."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.support import ROOT


def _node() -> str:
    node = shutil.which("node") or "/usr/bin/node"
    if not shutil.which(node):
        pytest.skip("node is not installed (the JS unit tests need node >= 20 for `node --test`)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    major = int(re.match(r"v(\d+)", version).group(1)) if re.match(r"v(\d+)", version) else 0
    if major < 20:
        pytest.skip(f"node {version} is too old for `node --test tests/js/` (need >= 20)")
    return node


def test_node_unit_tests_pass() -> None:
    """`node --test tests/js/` exits 0 and actually ran tests."""
    proc = subprocess.run(
        [_node(), "--test", "tests/js/"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    report = proc.stdout[-8000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, report
    passed = re.search(r"^# pass (\d+)$", proc.stdout, re.MULTILINE)
    assert passed is not None and int(passed.group(1)) >= 40, report
    assert re.search(r"^# fail 0$", proc.stdout, re.MULTILINE), report
