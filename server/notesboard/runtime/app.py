"""The application: routes, exception handlers and the lifespan (which is `runtime.open_runtime`).

Only the CLI and the server import this module; transports get the services from `app.state.runtime`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from notesboard import __version__
from notesboard.contract.asyncapi import router as asyncapi_router
from notesboard.contract.errors import BadRequest, NotesError, NotFound
from notesboard.contract.openapi import allow_header
from notesboard.contract.openapi import install as install_openapi
from notesboard.ingress.endpoint import websocket_endpoint
from notesboard.ingress.pages import client_dir, mount_pages
from notesboard.ingress.rest import error_response, router
from notesboard.ingress.rest_session import router as session_router
from notesboard.runtime.assembly import open_runtime
from notesboard.runtime.config import Settings
from notesboard.runtime.metrics import router as metrics_router
from notesboard.runtime.uvicorn_adapter import FastPaths, RawSendMiddleware
from notesboard.ytext.endpoint import ytext_endpoint

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        fast: FastPaths | None = getattr(app.state, "fast_paths", None)  # set by server.NotesServer
        async with open_runtime(settings, fast) as runtime:
            app.state.runtime = runtime
            yield

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
        request.app.state.runtime.recorder.error(exc.code)
        return error_response(exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return error_response(NotFound("no such resource"))
        err = BadRequest(str(exc.detail))
        err.status = exc.status_code if 400 <= exc.status_code < 500 else 400
        response = error_response(err)
        if exc.status_code == 405:  # RFC 9110: every method the path supports, not just one route's
            response.headers["Allow"] = allow_header(request.app.routes, request.scope)
        return response

    async def validation_error(request: Request, exc: Exception) -> Response:
        return error_response(BadRequest("invalid request"))

    app.state.settings = settings
    app.add_exception_handler(NotesError, notes_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)

    app.add_middleware(RawSendMiddleware)
    app.include_router(router)
    app.include_router(session_router)
    app.include_router(metrics_router)
    app.include_router(asyncapi_router)
    install_openapi(app, settings)
    app.add_api_websocket_route("/ws/{board}", websocket_endpoint)
    app.add_api_websocket_route("/y/{board}/{note_id}", ytext_endpoint)
    pages = APIRouter()
    static = mount_pages(pages, client_dir(settings.client_dir))
    app.include_router(pages)
    app.mount("/static", static, name="static")
    return app
