"""The wire client's pure parts, in-process: seq tracking, resume checks, frame decoding, errors, backoff."""

from __future__ import annotations

import random

import pytest

from notesboard.client import (
    Backoff,
    BadRequest,
    Conflict,
    Forbidden,
    NotesError,
    ProtocolError,
    SeqTracker,
    SnapshotKind,
    TooLarge,
    Unavailable,
    Verdict,
    decode,
    ws_url,
)
from notesboard.client.errors import error_from_frame, error_from_response


def snap(seq: int, notes: tuple[int, ...] = (), epoch: str = "e1", reset: bool = False) -> dict[str, object]:
    return {"type": "snapshot", "seq": seq, "epoch": epoch, "reset": reset, "notes": [{"seq": s} for s in notes]}


def event(seq: int) -> dict[str, object]:
    return {"type": "event", "seq": seq}


def test_events_are_next_repeat_or_gap() -> None:
    t = SeqTracker()
    assert t.snapshot(snap(3, (1, 2, 3))) is SnapshotKind.FRESH
    assert [t.event(event(s)) for s in (4, 4, 3, 6, 5, 6)] == [
        Verdict.NEXT,
        Verdict.REPEAT,
        Verdict.REPEAT,
        Verdict.GAP,
        Verdict.NEXT,
        Verdict.NEXT,
    ]
    assert t.seq == 6 and t.resume_query() == {"since": 6, "epoch": "e1"}


def test_a_resume_brings_the_missed_changes_in_order_or_is_refused() -> None:
    t = SeqTracker()
    t.snapshot(snap(2))
    assert t.snapshot(snap(5, (3, 5))) is SnapshotKind.RESUMED and t.missed == [3, 5] and t.seq == 5
    with pytest.raises(ProtocolError):
        t.snapshot(snap(7, (7, 6)))  # out of order
    with pytest.raises(ProtocolError):
        t.snapshot(snap(7, (5, 6)))  # 5 was already seen
    with pytest.raises(ProtocolError):
        t.snapshot(snap(7, (6,), epoch="other"))  # another epoch without reset
    assert t.snapshot(snap(1, (1,), epoch="e2", reset=True)) is SnapshotKind.RESET
    assert t.resume_query() == {"since": 1, "epoch": "e2"}
    with pytest.raises(ProtocolError):
        t.snapshot(event(2))


def test_a_start_seq_is_asked_without_an_epoch_until_a_snapshot_gives_one() -> None:
    t = SeqTracker(since=4)
    assert t.resume_query() == {"since": 4}
    assert t.snapshot(snap(6, (5, 6))) is SnapshotKind.RESUMED
    assert t.resume_query() == {"since": 6, "epoch": "e1"}


def test_batched_messages_decode_to_their_frames() -> None:
    assert decode('{"type":"event","seq":1}\n{"type":"event","seq":2}') == [event(1), event(2)]
    assert decode(b'{"type":"pong"}') == [{"type": "pong"}]
    with pytest.raises(ValueError):
        decode("[1]")
    with pytest.raises(ValueError):
        decode('{"type":"pong"}\nnot json')


def test_urls() -> None:
    assert ws_url("https://h:1/", "b", since=2, epoch=None, token="a b") == "wss://h:1/ws/b?since=2&token=a%20b"
    assert ws_url("127.0.0.1:8000", "b") == "ws://127.0.0.1:8000/ws/b"
    with pytest.raises(ValueError):
        ws_url("ftp://h", "b")


def test_error_frames_become_typed_exceptions() -> None:
    e = error_from_frame({"type": "error", "code": "conflict", "message": "version 3", "client_id": "c1"})
    assert isinstance(e, Conflict) and e.client_id == "c1" and e.message == "version 3"
    assert isinstance(error_from_frame({"code": "unavailable", "message": "db"}), Unavailable)
    assert isinstance(error_from_frame({"code": "too_large", "message": "big"}), TooLarge)
    other = error_from_frame({"code": "some_new_code", "message": "later"})
    assert type(other) is NotesError and other.code == "some_new_code"


def test_error_responses_take_the_class_from_the_body_code_then_the_status() -> None:
    body = b'{"error": {"code": "forbidden", "message": "a token is required"}}'
    e = error_from_response(401, body)
    assert isinstance(e, Forbidden) and e.status == 401 and e.message == "a token is required"
    assert isinstance(error_from_response(400, b'{"error": {"code": "bad_request", "message": "m"}}'), BadRequest)
    proxy = error_from_response(502, b"<html>Bad Gateway</html>")
    assert isinstance(proxy, Unavailable) and "Bad Gateway" in proxy.message and proxy.status == 502
    assert isinstance(error_from_response(409, b""), Conflict)
    assert type(error_from_response(418, b"teapot")) is NotesError


def test_backoff_doubles_to_the_cap_with_jitter_and_resets() -> None:
    b = Backoff(0.1, 1.0, rng=random.Random(7))
    delays = [b.next() for _ in range(8)]
    bases = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0]
    assert all(0.5 * base <= d < 1.5 * base for d, base in zip(delays, bases, strict=True))
    assert len(set(delays)) == len(delays)
    b.reset()
    assert 0.05 <= b.next() < 0.15
