"""Fixtures: a real server per test module (and per test where it must restart), on each database.

Every server-level test runs twice: on a fresh SQLite file and on a fresh Postgres database (created for the
test and dropped after). Postgres comes from NOTESBOARD_TEST_POSTGRES (default: the machine's service at
postgresql://postgres@127.0.0.1:5432/test); when it is unreachable those runs are skipped with the reason.

The core contract modules (BROKER_MODULES) also run on Postgres with each multi-process backplane, Redis
pub/sub (NOTESBOARD_TEST_REDIS, default redis://127.0.0.1:6379/0) and Postgres LISTEN/NOTIFY: every event
then goes through the broker and the ordering relay. tests/test_scaleout.py runs several processes.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.support import Database, ServerProcess, Unreachable
from tests.support.brokers import broker_url

BACKENDS = ["sqlite", "postgres"]
# Database + broker: the single-process setups everywhere, the multi-process backplanes in BROKER_MODULES.
COMBOS = [*BACKENDS, "postgres-redis", "postgres-notify"]
BROKER_MODULES = {"tests.test_ingress", "tests.test_rest"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    """A fixture that needs an unreachable Postgres or Redis skips its test, saying why."""
    try:
        return (yield)
    except Unreachable as exc:
        pytest.skip(str(exc))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    except Unreachable as exc:
        pytest.skip(str(exc))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # tests/browser has a `server` of its own (SQLite only: the page does not care which database serves it).
    if "server" in metafunc.fixturenames and not metafunc.module.__name__.startswith("tests.browser"):
        combos = COMBOS if metafunc.module.__name__ in BROKER_MODULES else BACKENDS
        metafunc.parametrize("server", combos, indirect=True, scope="module")


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per test module and database backend (and broker, in BROKER_MODULES); a module's
    `SERVER_ENV` dict adds settings."""
    backend, _, broker = request.param.partition("-")
    tmp = tmp_path_factory.mktemp("server")
    db = Database(backend, tmp)
    try:
        env = {"NOTESBOARD_BROKER": broker_url(broker or "memory", db), **getattr(request.module, "SERVER_ENV", {})}
    except BaseException:
        db.drop()
        raise
    srv = ServerProcess(db.url, tmp / "server.log", env=env)
    try:
        yield srv.start()
        srv.stop()
    finally:
        srv.kill()
        db.drop()


@pytest.fixture(params=BACKENDS)
def fresh_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own, not yet started, for tests that restart or kill it."""
    db = Database(request.param, tmp_path)
    srv = ServerProcess(db.url, tmp_path / "server.log")
    try:
        yield srv
    finally:
        srv.kill()
        db.drop()
