"""The queue between the cluster's producers and its broker sender."""

from __future__ import annotations

from notesboard.cluster.outgoing import Outgoing


async def test_it_wakes_the_sender_and_keeps_the_newest_events() -> None:
    out = Outgoing(max_lines=3)
    assert not out and not out.wake.is_set()
    for seq in range(1, 6):
        out.event(f"b {seq} frame")
    out.presence_message({"ttl": 10, "b": {"b": [1, ["ann"]]}})
    assert out and out.wake.is_set() and out.dropped == 2
    lines, presence = out.take()
    assert lines == ["b 3 frame", "b 4 frame", "b 5 frame"] and presence == [{"ttl": 10, "b": {"b": [1, ["ann"]]}}]
    assert not out and out.take() == ([], [])
