"""Running uvicorn with a graceful shutdown that closes sockets with 1001 (uvicorn itself would send 1012)."""

from __future__ import annotations

import logging
import re

import uvicorn

from notesboard.ingress.endpoint import SocketsFirst
from notesboard.runtime import lognoise
from notesboard.runtime.app import create_app
from notesboard.runtime.config import Settings
from notesboard.runtime.gctune import tune_gc
from notesboard.runtime.limits import check_descriptors
from notesboard.runtime.uvicorn_adapter import find_app, probe

__all__ = ["LogHygiene", "NotesServer", "prepare", "run", "uvicorn_config"]


class NotesServer(uvicorn.Server):
    """Checks uvicorn's fast paths before start-up; drains our runtime (commit, ack, close 1001) before
    uvicorn's own shutdown steps (which would close sockets with 1012)."""

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        app = find_app(self.config)
        if app is not None:
            settings: Settings | None = getattr(app.state, "settings", None)
            app.state.fast_paths = probe(self.config, direct_writes=settings is None or settings.direct_writes)
        await super().startup(sockets)

    async def shutdown(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        runtime = getattr(getattr(find_app(self.config), "state", None), "runtime", None)
        if runtime is not None:
            await runtime.drain()
        await super().shutdown(sockets)


def uvicorn_config(settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        SocketsFirst(create_app(settings)),
        host=settings.host,
        port=settings.port,
        ws=settings.ws_impl,
        ws_max_size=settings.max_frame_bytes,
        ws_ping_interval=settings.ping_interval or None,
        ws_ping_timeout=settings.ping_timeout,
        ws_per_message_deflate=settings.ws_compression,
        log_level=settings.log_level,
        timeout_graceful_shutdown=int(settings.shutdown_timeout) + 1,
        lifespan="on",
    )


class LogHygiene(logging.Filter):
    """Keeps secrets and false alarms out of uvicorn's logs.

    - The access lines of WebSocket handshakes carry the query string: `token=` values are masked.
    - uvicorn's sans-I/O protocol logs "ASGI callable returned without completing handshake" after every
      refusal sent as an HTTP denial response (401, 403, 429...), although the response went out complete.
      Our endpoint always accepts or refuses, so the line is only noise.
    """

    TOKEN = re.compile(r"(token=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("ASGI callable returned without completing handshake"):
            return False
        if "token=" in message:
            record.msg, record.args = self.TOKEN.sub(r"\1***", message), None
        return True


def prepare(settings: Settings) -> uvicorn.Config:
    """What one server process does before serving (alone or as a worker): logging, uvicorn's config, the
    check that its descriptor limit covers `max_connections`, and the garbage collector's pace."""
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = uvicorn_config(settings)  # configures uvicorn's loggers; filter them after that
    hygiene = LogHygiene()  # tokens masked in access lines
    for name in ("uvicorn.error", "uvicorn.access", "notesboard"):
        logging.getLogger(name).addFilter(hygiene)
    lognoise.install(settings.log_level)
    check_descriptors(settings.max_connections)
    tune_gc(settings.gc_threshold)
    return config


def run(settings: Settings) -> None:
    NotesServer(prepare(settings)).run()
