"""Issue #23, dot-voting on a real server (SQLite and Postgres): the budget, one vote per note, taking votes
back, hidden tallies (a raw socket of someone else sees no note id), totals on close, a vote in the same
batch as the close, idempotent client_ids, a new vote starting empty, a deleted note giving its votes back,
the snapshot's and REST's view of the vote, and every refusal as a contract error."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx

from tests.helpers import Client, connect
from tests.support import ServerProcess


def open_vote(server: ServerProcess, board: str, **vote: Any) -> dict[str, Any]:
    r = httpx.put(f"{server.url}/api/boards/{board}/session", json={"vote": {"open": True, **vote}})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def close_vote(server: ServerProcess, board: str, **vote: Any) -> dict[str, Any]:
    r = httpx.put(f"{server.url}/api/boards/{board}/session", json={"vote": {"open": False, **vote}})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def notes(c: Client, *texts: str, kind: str = "note") -> list[int]:
    ids = []
    for i, text in enumerate(texts):
        ack = await c.request({"type": "create", "text": text, "kind": kind, "client_id": f"{kind}-{i}-{len(text)}"})
        ids.append(ack["note"]["id"])
    return ids


_CIDS = itertools.count()


async def vote(c: Client, note: int, delta: int = 1, cid: str | None = None) -> dict[str, Any]:
    cid = cid or f"v-{note}-{delta}-{next(_CIDS)}"
    return await c.request({"type": "vote", "id": note, "delta": delta, "client_id": cid})


def rest_vote(server: ServerProcess, board: str, note: int, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.url}/api/boards/{board}/notes/{note}/votes", json=body)


async def test_open_tallies_reach_everyone_and_the_budget_holds(server: ServerProcess) -> None:
    board = "vote-open"
    async with connect(server, board, key="ann-key") as ann, connect(server, board, key="bob-key") as bob:
        a, b, c = await notes(ann, "a", "b", "c")
        open_vote(server, board, budget=2)
        await ann.recv_type("session")
        first = await vote(ann, a)
        assert first["type"] == "ack" and first["vote"] == {"id": a, "delta": 1, "mine": 1, "left": 1, "votes": 1}
        seen = await bob.recv_type("vote")
        assert seen == {"type": "vote", "seq": first["seq"], "id": a, "delta": 1, "votes": 1}
        own = await ann.recv_type("vote")  # the voter's own frame says what is theirs
        assert own["mine"] == 1 and own["left"] == 1 and own["votes"] == 1
        again = await vote(ann, a)
        assert again["type"] == "error" and again["code"] == "forbidden" and "one vote per note" in again["message"]
        await vote(ann, b)
        over = await vote(ann, c)
        assert over["type"] == "error" and over["code"] == "forbidden" and "all 2" in over["message"]
        # Bob has a budget of his own; taking a vote back gives it back.
        assert (await vote(bob, a))["vote"]["votes"] == 2
        back = await vote(ann, a, -1)
        assert back["vote"] == {"id": a, "delta": -1, "mine": 0, "left": 1, "votes": 1}
        none = await vote(ann, a, -1)
        assert none["type"] == "error" and none["code"] == "not_found"
        assert (await vote(ann, c))["vote"]["left"] == 0
    # A new socket with Ann's key sees her votes and everyone's totals in its snapshot.
    async with connect(server, board, key="ann-key") as again_ann:
        assert again_ann.snapshot["votes"] == {
            "mine": {str(b): 1, str(c): 1},
            "left": 0,
            "totals": {str(a): 1, str(b): 1, str(c): 1},
        }
    view = httpx.get(f"{server.url}/api/boards/{board}/votes", params={"voter": "bob-key"}).json()
    assert view["mine"] == {str(a): 1} and view["left"] == 1 and view["totals"][str(a)] == 1


async def test_hidden_tallies_show_only_your_own_until_the_close_shows_every_total(server: ServerProcess) -> None:
    board = "vote-hidden"
    async with connect(server, board, key="ann") as ann, connect(server, board, key="bob") as bob:
        a, b = await notes(ann, "a", "b")
        open_vote(server, board, budget=3, hidden=True, multiple=True)
        await bob.recv_type("session")
        ack = await vote(ann, a)
        assert ack["vote"] == {"id": a, "delta": 1, "mine": 1, "left": 2}  # no total while hidden
        assert (await vote(ann, a))["vote"]["mine"] == 2  # multiple: several on one note
        hidden = [await bob.recv_type("vote") for _ in range(2)]
        assert hidden == [
            {"type": "vote", "seq": ack["seq"], "hidden": True},
            {"type": "vote", "seq": ack["seq"] + 1, "hidden": True},
        ]
        await vote(bob, b)
        async with connect(server, board, key="carl") as carl:  # someone else's snapshot: nothing of theirs
            assert carl.snapshot["votes"] == {"mine": {}, "left": 3}
        view = httpx.get(f"{server.url}/api/boards/{board}/votes").json()
        assert "totals" not in view and view["mine"] == {}
        closed = close_vote(server, board, budget=3, hidden=True, multiple=True)
        frame = await bob.recv_type("session")
        assert frame["session"] == closed and frame["votes"] == {str(a): 2, str(b): 1}
    view = httpx.get(f"{server.url}/api/boards/{board}/votes").json()
    assert view["totals"] == {str(a): 2, str(b): 1} and view["vote"]["open"] is False
    # Closed: no more votes; opening a new vote starts from none.
    async with connect(server, board, key="ann") as ann:
        late = await vote(ann, a)
        assert late["type"] == "error" and late["code"] == "not_found" and "no vote is open" in late["message"]
        open_vote(server, board)
        fresh = await ann.recv_type("session")
        assert fresh["votes"] == {}
        assert (await vote(ann, a))["vote"] == {"id": a, "delta": 1, "mine": 1, "left": 2, "votes": 1}


async def test_a_vote_in_the_same_batch_as_the_close_is_counted_or_refused_never_lost(server: ServerProcess) -> None:
    board = "vote-race"
    async with connect(server, board, key="ann") as ann:
        (a,) = await notes(ann, "a")
        open_vote(server, board, budget=50, multiple=True)
        await ann.recv_type("session")
        cids = [f"race-{i}" for i in range(40)]

        async def close_soon() -> dict[str, Any]:
            await asyncio.sleep(0.005)
            async with httpx.AsyncClient() as http:
                r = await http.put(f"{server.url}/api/boards/{board}/session", json={"vote": {"open": False}})
            return r.json()  # type: ignore[no-any-return]

        closing = asyncio.create_task(close_soon())
        for cid in cids:
            await ann.send({"type": "vote", "id": a, "delta": 1, "client_id": cid})
        replies = [await ann.recv_until(lambda f, c=c: f.get("client_id") == c) for c in cids]
        await closing
        frame = await ann.recv_type("session")
        counted = [r for r in replies if r["type"] == "ack"]
        refused = [r for r in replies if r["type"] == "error"]
        assert len(counted) + len(refused) == len(cids)
        assert all(r["code"] == "not_found" for r in refused)
        # Every vote acked before the close is in the total; none after it.
        assert frame["votes"] == ({str(a): len(counted)} if counted else {})
        assert all(r["seq"] < frame["seq"] for r in counted)


async def test_votes_are_idempotent_by_client_id_and_follow_their_note(server: ServerProcess) -> None:
    board = "vote-idem"
    async with connect(server, board, key="ann") as ann, connect(server, board, key="bob") as bob:
        a, b = await notes(ann, "a", "b")
        (section,) = await notes(ann, "Went well", kind="section")
        open_vote(server, board, budget=1)
        await bob.recv_type("session")
        first = await vote(ann, a, cid="same")
        replay = await vote(ann, a, cid="same")
        assert replay["seq"] == first["seq"] and replay["vote"]["mine"] == 1  # the first vote's answer, again
        other = await vote(ann, b, cid="same")
        assert other["type"] == "error" and other["code"] == "bad_request"
        on_section = await vote(bob, section)
        assert (
            on_section["type"] == "error" and on_section["code"] == "bad_request" and "section" in on_section["message"]
        )
        assert (await vote(bob, 99_999))["code"] == "not_found"
        # Deleting the note gives its votes back: Ann may vote again, and a restore brings none back.
        deleted = await ann.request({"type": "delete", "id": a, "client_id": "del-a"})
        assert deleted["type"] == "ack"
        assert (await vote(ann, a))["code"] == "not_found"
        assert (await vote(ann, b))["vote"]["left"] == 0
        await ann.request({"type": "update", "id": a, "deleted": False, "client_id": "undo-a"})
        view = httpx.get(f"{server.url}/api/boards/{board}/votes", params={"voter": "ann"}).json()
        assert view["mine"] == {str(b): 1} and view["left"] == 0


async def test_rest_votes_and_bad_votes(server: ServerProcess) -> None:
    board = "vote-rest"
    async with connect(server, board, key="ann") as ann:
        (a,) = await notes(ann, "a")
        no_vote = rest_vote(server, board, a, {"delta": 1, "voter": "prog"})
        assert no_vote.status_code == 404 and "no vote is open" in no_vote.json()["error"]["message"]
        open_vote(server, board, budget=2)
        r = rest_vote(server, board, a, {"delta": 1, "voter": "prog", "client_id": "r1"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body == {"seq": body["seq"], "id": a, "delta": 1, "mine": 1, "left": 1, "votes": 1}
        frame = await ann.recv_type("vote")  # a REST vote reaches the sockets like any other
        assert frame["id"] == a and frame["votes"] == 1 and "mine" not in frame
        assert rest_vote(server, board, a, {"delta": 1, "voter": "prog"}).status_code == 403
        for bad in (
            {"delta": 2, "voter": "prog"},
            {"delta": 0, "voter": "prog"},
            {"delta": "1", "voter": "prog"},
            {"voter": "prog"},
            {"delta": 1},  # REST needs a voter key (auth off)
            {"delta": 1, "voter": "no spaces"},
            {"delta": 1, "voter": "prog", "id": a},
            {"delta": 1, "voter": "prog", "extra": True},
            [],
        ):
            r = rest_vote(server, board, a, bad)  # type: ignore[arg-type]
            assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", (bad, r.text)
        for bad_frame in (
            {"type": "vote", "id": a, "delta": 5, "client_id": "b1"},
            {"type": "vote", "id": "x", "delta": 1, "client_id": "b2"},
            {"type": "vote", "id": a, "delta": 1, "voter": "someone-else", "client_id": "b3"},
        ):
            reply = await ann.request(bad_frame)
            assert reply["type"] == "error" and reply["code"] == "bad_request", reply
        assert httpx.post(f"{server.url}/api/boards/{board}/notes/abc/votes", json={"delta": 1}).status_code == 400


async def test_exports_carry_the_totals_once_they_may_be_seen(server: ServerProcess) -> None:
    board = "vote-export"
    async with connect(server, board, key="ann") as ann, connect(server, board, key="bob") as bob:
        a, b = await notes(ann, "alpha", "beta")
        export = f"{server.url}/api/boards/{board}/export"
        assert "votes" not in httpx.get(export).json()["notes"][0]  # no vote: exports as before
        open_vote(server, board, hidden=True)
        await vote(ann, b)
        await vote(bob, b)
        await vote(bob, a)
        hidden = httpx.get(export).json()["notes"]
        assert all("votes" not in n for n in hidden)  # hidden tallies do not leave by export either
        assert "votes" not in httpx.get(export, params={"format": "csv"}).text.splitlines()[0]
        close_vote(server, board, hidden=True)
    rows = httpx.get(export).json()["notes"]
    assert {n["text"]: n["votes"] for n in rows} == {"alpha": 1, "beta": 2}
    csv_lines = httpx.get(export, params={"format": "csv"}).text.splitlines()
    assert csv_lines[0].endswith(",kind,votes") and csv_lines[1].endswith(",note,1")
    md = httpx.get(export, params={"format": "md"}).text
    assert md.index("- beta (2 votes)") < md.index("- alpha (1 vote)")  # most votes first
