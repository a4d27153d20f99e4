"""Short versions of the fault matrix (bench/faults.py, issue #25) that no other test covers: Redis stopped
for a few seconds under writers, and one process cut from the broker while the other keeps it. Each runs the
benchmark's own row on a Postgres and a Redis of its own (never the machine's shared ones) and asserts what
the matrix reports: nothing lost, nothing twice, every watcher converged on the database's board."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from types import ModuleType

import pytest

from tests.support import ROOT
from tests.support.databases import Unreachable


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_faults", ROOT / "bench" / "faults.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("fault", ["redis-stop", "broker-cut-one"])
async def test_a_short_fault_loses_and_duplicates_nothing(fault: str) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: the private Redis of this test needs it")
    faults = _bench()
    try:
        row = await faults._run("redis", fault, 2.0, (1.5, 2.5), lambda _: None)
    except Unreachable as exc:
        pytest.skip(str(exc))
    assert row.acked > 50, row  # the writers really wrote through the fault
    assert (row.lost, row.duplicated, row.converged) == (0, 0, True), row
