"""The REST API for one-shot scripts: `Rest(url, token=...)` (sync) and `AsyncRest` (async), on httpx.

Each method is one request; a refusal raises the same `NotesError` subclasses as the socket client, built
from the server's JSON error body (`Conflict`, `NotFound`, `Forbidden`, `BadRequest`...). A server that
cannot be reached raises `Unavailable`, one that does not answer in time `Timeout`. Both classes share the
request building (`_Call`) and the answer reading (`_result`), so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from notesboard.client.errors import NotesError, Timeout, Unavailable, error_from_response

__all__ = ["AsyncRest", "Rest"]

Json = Any


@dataclass(frozen=True)
class _Call:
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Json = None
    raw: bool = False  # the body as text (export), not JSON


def _board(board: str) -> str:
    return f"/api/boards/{quote(board, safe='')}"


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class _Calls:
    """What each method asks the server, transport aside."""

    @staticmethod
    def notes(board: str, since: int | None, limit: int | None) -> _Call:
        return _Call("GET", f"{_board(board)}/notes", _drop_none({"since": since, "limit": limit}))

    @staticmethod
    def notes_at(board: str, at: int, limit: int | None) -> _Call:
        return _Call("GET", f"{_board(board)}/notes", _drop_none({"at": at, "limit": limit}))

    @staticmethod
    def history(board: str, since: int | None, limit: int | None, note_id: int | None = None) -> _Call:
        path = f"{_board(board)}/history" if note_id is None else f"{_board(board)}/notes/{note_id}/history"
        return _Call("GET", path, _drop_none({"since": since, "limit": limit}))

    @staticmethod
    def create(board: str, text: str, fields: dict[str, Any]) -> _Call:
        return _Call("POST", f"{_board(board)}/notes", json={"text": text, **fields})

    @staticmethod
    def update(board: str, note_id: int, version: int | None, fields: dict[str, Any]) -> _Call:
        body = {**fields, **_drop_none({"version": version})}
        return _Call("PATCH", f"{_board(board)}/notes/{note_id}", json=body)

    @staticmethod
    def delete(board: str, note_id: int, version: int | None, author: str | None, purge: bool = False) -> _Call:
        params = _drop_none({"version": version, "author": author, "purge": "true" if purge else None})
        return _Call("DELETE", f"{_board(board)}/notes/{note_id}", params)

    @staticmethod
    def delete_board(board: str, author: str | None) -> _Call:
        return _Call("DELETE", _board(board), _drop_none({"author": author}))

    @staticmethod
    def export(board: str, fmt: str) -> _Call:
        return _Call("GET", f"{_board(board)}/export", {"format": fmt}, raw=True)

    @staticmethod
    def import_board(board: str, data: Json) -> _Call:
        return _Call("POST", f"{_board(board)}/import", json=data)

    @staticmethod
    def session(board: str) -> _Call:
        return _Call("GET", f"{_board(board)}/session")

    @staticmethod
    def set_session(board: str, body: dict[str, Any]) -> _Call:
        return _Call("PUT", f"{_board(board)}/session", json=body)

    @staticmethod
    def vote(board: str, note_id: int, delta: int, voter: str | None, client_id: str | None) -> _Call:
        body = _drop_none({"delta": delta, "voter": voter, "client_id": client_id})
        return _Call("POST", f"{_board(board)}/notes/{note_id}/votes", json=body)

    @staticmethod
    def votes(board: str, voter: str | None) -> _Call:
        return _Call("GET", f"{_board(board)}/votes", params=_drop_none({"voter": voter}))

    @staticmethod
    def boards(limit: int | None) -> _Call:
        return _Call("GET", "/api/boards", _drop_none({"limit": limit}))


def _result(call: _Call, response: httpx.Response) -> Json:
    if response.status_code >= 400:
        raise error_from_response(response.status_code, response.content)
    return response.text if call.raw else response.json()


def _transport_error(base: str, exc: httpx.HTTPError) -> NotesError:
    if isinstance(exc, httpx.TimeoutException):
        return Timeout(f"{base} did not answer in time ({type(exc).__name__})")
    return Unavailable(f"cannot reach {base}: {exc or type(exc).__name__}")


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class Rest:
    """Blocking REST calls: `with Rest("http://127.0.0.1:8000") as api: api.create("team", "hello")`."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=_headers(token), timeout=timeout)

    def _do(self, call: _Call) -> Json:
        try:
            response = self._http.request(call.method, call.path, params=call.params, json=call.json)
        except httpx.HTTPError as exc:
            raise _transport_error(self.url, exc) from exc
        return _result(call, response)

    def notes(self, board: str, *, since: int | None = None, limit: int | None = None) -> dict[str, Any]:
        """`{"board", "epoch", "seq", "notes", "more"}`: live notes, or with `since` the changes after it."""
        return self._do(_Calls.notes(board, since, limit))  # type: ignore[no-any-return]

    def notes_at(self, board: str, at: int, *, limit: int | None = None) -> dict[str, Any]:
        """`{"board", "epoch", "seq", "notes", "more"}`: the live notes right after seq `at` (BadRequest when
        `at` is after the board's seq or older than the history kept)."""
        return self._do(_Calls.notes_at(board, at, limit))  # type: ignore[no-any-return]

    def history(
        self, board: str, *, since: int | None = None, limit: int | None = None, note_id: int | None = None
    ) -> dict[str, Any]:
        """`{"board", "changes", "more", "truncated", "oldest_at"}`: the changes after `since` (each `{"seq",
        "op", "note", "by", "at"}`), of the board or of one note (`note_id`: its versions); page on with
        since = the last change's seq while `more`."""
        return self._do(_Calls.history(board, since, limit, note_id))  # type: ignore[no-any-return]

    def create(self, board: str, text: str, **fields: Any) -> dict[str, Any]:
        """The new note (fields: color, x, y, author, client_id...; a repeated client_id returns the first)."""
        return self._do(_Calls.create(board, text, fields))  # type: ignore[no-any-return]

    def update(self, board: str, note_id: int, *, version: int | None = None, **fields: Any) -> dict[str, Any]:
        return self._do(_Calls.update(board, note_id, version, fields))  # type: ignore[no-any-return]

    def delete(
        self, board: str, note_id: int, *, version: int | None = None, author: str | None = None, purge: bool = False
    ) -> dict[str, Any]:
        """The tombstone (`purge`: the note's earlier texts are erased from the history too)."""
        return self._do(_Calls.delete(board, note_id, version, author, purge))  # type: ignore[no-any-return]

    def delete_board(self, board: str, *, author: str | None = None) -> dict[str, Any]:
        """Every note of the board deleted: `{"board", "deleted", "seq"}`."""
        return self._do(_Calls.delete_board(board, author))  # type: ignore[no-any-return]

    def export(self, board: str, format: str = "json") -> str:
        """The board as json, md or csv text (what `notesboard export` writes)."""
        return self._do(_Calls.export(board, format))  # type: ignore[no-any-return]

    def import_board(self, board: str, data: Json) -> dict[str, Any]:
        """Create an export's notes (parsed JSON) on a board, idempotently: `{"board", "created", "skipped", "seq"}`."""
        return self._do(_Calls.import_board(board, data))  # type: ignore[no-any-return]

    def boards(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        return self._do(_Calls.boards(limit))  # type: ignore[no-any-return]

    def session(self, board: str) -> dict[str, Any]:
        return self._do(_Calls.session(board))  # type: ignore[no-any-return]

    def set_session(self, board: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT the whole session (with the `version` you saw; Conflict if it moved on)."""
        return self._do(_Calls.set_session(board, body))  # type: ignore[no-any-return]

    def vote(
        self, board: str, note_id: int, delta: int = 1, *, voter: str | None = None, client_id: str | None = None
    ) -> dict[str, Any]:
        return self._do(_Calls.vote(board, note_id, delta, voter, client_id))  # type: ignore[no-any-return]

    def votes(self, board: str, *, voter: str | None = None) -> dict[str, Any]:
        return self._do(_Calls.votes(board, voter))  # type: ignore[no-any-return]

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Rest:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncRest:
    """The same calls, awaited: `async with AsyncRest(url) as api: await api.create("team", "hello")`."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.url, headers=_headers(token), timeout=timeout)

    async def _do(self, call: _Call) -> Json:
        try:
            response = await self._http.request(call.method, call.path, params=call.params, json=call.json)
        except httpx.HTTPError as exc:
            raise _transport_error(self.url, exc) from exc
        return _result(call, response)

    async def notes(self, board: str, *, since: int | None = None, limit: int | None = None) -> dict[str, Any]:
        return await self._do(_Calls.notes(board, since, limit))  # type: ignore[no-any-return]

    async def notes_at(self, board: str, at: int, *, limit: int | None = None) -> dict[str, Any]:
        return await self._do(_Calls.notes_at(board, at, limit))  # type: ignore[no-any-return]

    async def history(
        self, board: str, *, since: int | None = None, limit: int | None = None, note_id: int | None = None
    ) -> dict[str, Any]:
        return await self._do(_Calls.history(board, since, limit, note_id))  # type: ignore[no-any-return]

    async def create(self, board: str, text: str, **fields: Any) -> dict[str, Any]:
        return await self._do(_Calls.create(board, text, fields))  # type: ignore[no-any-return]

    async def update(self, board: str, note_id: int, *, version: int | None = None, **fields: Any) -> dict[str, Any]:
        return await self._do(_Calls.update(board, note_id, version, fields))  # type: ignore[no-any-return]

    async def delete(
        self, board: str, note_id: int, *, version: int | None = None, author: str | None = None, purge: bool = False
    ) -> dict[str, Any]:
        return await self._do(_Calls.delete(board, note_id, version, author, purge))  # type: ignore[no-any-return]

    async def delete_board(self, board: str, *, author: str | None = None) -> dict[str, Any]:
        return await self._do(_Calls.delete_board(board, author))  # type: ignore[no-any-return]

    async def export(self, board: str, format: str = "json") -> str:
        return await self._do(_Calls.export(board, format))  # type: ignore[no-any-return]

    async def import_board(self, board: str, data: Json) -> dict[str, Any]:
        return await self._do(_Calls.import_board(board, data))  # type: ignore[no-any-return]

    async def boards(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        return await self._do(_Calls.boards(limit))  # type: ignore[no-any-return]

    async def session(self, board: str) -> dict[str, Any]:
        return await self._do(_Calls.session(board))  # type: ignore[no-any-return]

    async def set_session(self, board: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT the whole session (with the `version` you saw; Conflict if it moved on)."""
        return await self._do(_Calls.set_session(board, body))  # type: ignore[no-any-return]

    async def vote(
        self, board: str, note_id: int, delta: int = 1, *, voter: str | None = None, client_id: str | None = None
    ) -> dict[str, Any]:
        return await self._do(_Calls.vote(board, note_id, delta, voter, client_id))  # type: ignore[no-any-return]

    async def votes(self, board: str, *, voter: str | None = None) -> dict[str, Any]:
        return await self._do(_Calls.votes(board, voter))  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncRest:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
