"""Awareness.expire: another process's peers go when neither its awareness nor its presence is heard."""

from __future__ import annotations

import time

from notesboard.awareness.service import Awareness


async def _no_check(board: str, note_id: int) -> bool:
    return True


def _peers(aw: Awareness, board: str) -> set[str]:
    room = aw._rooms.get(board)
    return set(room.remote) if room is not None else set()


async def test_a_listed_process_is_asked_once_per_ttl_and_an_unlisted_one_goes() -> None:
    aw = Awareness(tick=0.05, enabled=True, note_check=_no_check)
    aw.remote("p1", "b", ["+p1-a #112233 {}", "+p1-b #445566 {}"])
    aw.remote("p2", "b", ["+p2-a #778899 {}"])
    asked: list[tuple[str, str]] = []
    listed = {"p1"}

    def is_listed(board: str, origin: str) -> bool:
        asked.append((board, origin))
        return origin in listed

    room = aw._rooms["b"]
    for origin in ("p1", "p2"):
        room.heard[origin] = time.monotonic() - 2  # both quiet for longer than a ttl of 1 s
    aw.expire(1.0, is_listed)
    assert sorted(asked) == [("b", "p1"), ("b", "p2")]
    assert _peers(aw, "b") == {"p1-a", "p1-b"}  # p2 was listed nowhere: its peer is gone
    asked.clear()
    aw.expire(1.0, is_listed)  # p1 was just looked at: not asked again within the ttl
    assert asked == [] and _peers(aw, "b") == {"p1-a", "p1-b"}
    room.heard["p1"] = time.monotonic() - 2  # a ttl later, and presence no longer lists it
    listed.clear()
    aw.expire(1.0, is_listed)
    assert asked == [("b", "p1")] and _peers(aw, "b") == set()
