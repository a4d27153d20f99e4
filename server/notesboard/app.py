"""The application: `create_app()` and the lifespan that owns every long-lived part.

Start-up opens, in order: store -> backplane -> hub/presence -> writer. Shutdown (`Runtime.drain`) reverses
it: refuse new sockets and writes, commit and ack what is queued, close every socket with 1001, then close
the backplane and the database.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from notesboard import __version__
from notesboard.backplane import from_url
from notesboard.config import Settings
from notesboard.errors import BadRequest, NotesError, NotFound
from notesboard.fanout import Hub
from notesboard.ingress import RawSendMiddleware, websocket_endpoint
from notesboard.metrics import Metrics
from notesboard.metrics import router as metrics_router
from notesboard.pages import client_dir, mount_pages
from notesboard.presence import Presence
from notesboard.publish import Publisher
from notesboard.rest import error_response, router
from notesboard.store import Store
from notesboard.usecases import Notes
from notesboard.writer import Writer

if TYPE_CHECKING:
    from notesboard.ingress import SocketConnection

__all__ = ["Runtime", "create_app"]

log = logging.getLogger("notesboard")


class Runtime:
    """Everything a request handler may touch, created and closed by the lifespan."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(
            settings.database_url,
            busy_timeout=settings.busy_timeout,
            synchronous=settings.sqlite_synchronous,
            readers=settings.read_connections,
            max_boards=settings.max_boards,
        )
        self.hub = Hub(
            settings.fanout_delay, coalesce=settings.fanout_coalesce, coalesce_min=settings.fanout_coalesce_min
        )
        self.backplane = from_url(settings.broker, self.hub.deliver)
        self.publisher = Publisher(self.backplane)
        self.writer = Writer(self.store, self.publisher, batch_max=settings.batch_max, queue_max=settings.write_queue)
        self.presence = Presence(self.hub, settings.presence_interval)
        self.backplane.bind(self.hub, self.store, self.presence, settings)  # several processes: gap repair, presence
        self.notes = Notes(self.store, self.writer)
        self.connections: set[SocketConnection] = set()
        self.per_address: Counter[str] = Counter()
        self.accepting = False
        self.overflows = 0
        self._drained = False
        self._watchdog: asyncio.TimerHandle | None = None
        self.metrics = Metrics(self)  # last: registering the collector reads the fields above
        self.writer.on_commit = self.metrics.write_latency.observe

    def _watch(self) -> None:
        """Every second: find connections whose peer stopped reading (see SocketConnection.check_stalled)."""
        now = time.monotonic()
        for conn in list(self.connections):
            conn.check_stalled(now, self.settings.stall_timeout)
        self._watchdog = asyncio.get_running_loop().call_later(1.0, self._watch)

    async def start(self) -> None:
        self._watchdog = asyncio.get_running_loop().call_later(1.0, self._watch)
        await self.store.connect()
        await self.backplane.connect()
        self.writer.start()
        self.accepting = True

    async def drain(self) -> None:
        """Graceful shutdown; safe to call twice (the server calls it before uvicorn closes sockets)."""
        if self._drained:
            return
        self._drained = True
        self.accepting = False
        timeout = self.settings.shutdown_timeout
        await self.writer.drain(timeout)
        await asyncio.sleep(0)  # let the commit callbacks queue their acks
        conns = list(self.connections)
        if conns:
            await asyncio.gather(*(c.shutdown(timeout) for c in conns), return_exceptions=True)
        log.info("drained: %d writes committed, %d sockets closed 1001", self.writer.committed, len(conns))

    async def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        await self.drain()
        self.presence.close()
        await self.backplane.disconnect()
        await self.store.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings)
        app.state.runtime = runtime
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="notesboard",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        # FastAPI's OpenTelemetry hooks cost a provider lookup (and an environment read) per connection even
        # when nothing is configured; notesboard has its own /metrics.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )

    async def notes_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NotesError)
        request.app.state.runtime.metrics.error(exc.code)
        return error_response(exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return error_response(NotFound("no such resource"))
        err = BadRequest(str(exc.detail))
        err.status = exc.status_code if 400 <= exc.status_code < 500 else 400
        return error_response(err)

    async def validation_error(request: Request, exc: Exception) -> Response:
        return error_response(BadRequest("invalid request"))

    app.add_exception_handler(NotesError, notes_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)

    app.add_middleware(RawSendMiddleware)
    app.include_router(router)
    app.include_router(metrics_router)
    app.add_api_websocket_route("/ws/{board}", websocket_endpoint)
    pages = APIRouter()
    static = mount_pages(pages, client_dir(settings.client_dir))
    app.include_router(pages)
    app.mount("/static", static, name="static")
    return app
