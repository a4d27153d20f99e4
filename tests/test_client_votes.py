"""The Python client's votes and session (issue #23): `board.vote`, `board.votes`, `board.set_session`, and the
REST clients' `vote`/`votes`/`session`/`set_session`, against a real server (SQLite and Postgres)."""

from __future__ import annotations

import asyncio

import pytest

from notesboard.client import AsyncRest, Conflict, Forbidden, NotFound, Rest, connect
from tests.support import ServerProcess


async def until(check: object, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_whole_vote_from_python(server: ServerProcess) -> None:
    board = "py-votes"
    async with connect(server.url, board, voter="ann") as ann, connect(server.url, board, voter="bob") as bob:
        a = (await ann.create("alpha"))["id"]
        b = (await ann.create("beta"))["id"]
        with pytest.raises(NotFound, match="no vote is open"):
            await ann.vote(a)
        session = await ann.set_session(vote={"open": True, "budget": 2, "hidden": True})
        assert session["vote"]["hidden"] is True and session["version"] == 1
        await until(lambda: bob.session is not None and bob.session["version"] == 1)
        with pytest.raises(Conflict):  # Ann's view is older than the session now
            await ann.set_session(writing="private", version=0)
        mine = await ann.vote(a)
        assert mine == {"id": a, "delta": 1, "mine": 1, "left": 1}  # no total while hidden
        await ann.vote(b)
        with pytest.raises(Forbidden, match="all 2"):
            await ann.vote(b)
        await bob.vote(b)
        await until(lambda: ann.votes.mine == {a: 1, b: 1} and ann.votes.left == 0)
        assert ann.votes.totals is None and bob.votes.mine == {b: 1}
        await until(lambda: ann.session is not None and ann.session["version"] == 1)
        closed = await ann.set_session(vote={**session["vote"], "open": False})
        assert closed["version"] == 2
        await until(lambda: bob.votes.totals == {a: 1, b: 2})
    async with connect(server.url, board, voter="bob") as again:  # the snapshot brings it all back
        assert again.votes.mine == {b: 1} and again.votes.totals == {a: 1, b: 2}


async def test_the_rest_clients_vote_and_read_the_session(server: ServerProcess) -> None:
    board = "py-rest-votes"
    with Rest(server.url) as api:
        note = api.create(board, "n")["id"]
        assert api.session(board)["version"] == 0
        api.set_session(board, {"vote": {"open": True}, "version": 0})
        reply = api.vote(board, note, voter="prog", client_id="once")
        assert (
            reply["mine"] == 1
            and reply["votes"] == 1
            and api.vote(board, note, voter="prog", client_id="once") == reply
        )
        assert api.votes(board, voter="prog")["mine"] == {str(note): 1}
    async with AsyncRest(server.url) as aapi:
        back = await aapi.vote(board, note, -1, voter="prog")
        assert back["mine"] == 0 and back["left"] == 3
        assert (await aapi.votes(board))["totals"] == {}
        assert (await aapi.session(board))["vote"]["open"] is True
