"""Validation is pure: frames and bodies in, typed commands or contract errors out (no server needed)."""

from __future__ import annotations

import pytest

from notesboard.contract.errors import BadRequest, TooLarge
from notesboard.contract.validate import (
    CreateCommand,
    DeleteCommand,
    Ping,
    UpdateCommand,
    check_board,
    check_name,
    create_command,
    parse_frame,
    parse_int_param,
)
from notesboard.ingress.handshake import handshake


def test_create_frame_becomes_a_command() -> None:
    cmd = parse_frame('{"type":"create","text":"hi","client_id":"a.b:c-1","color":"#aBc123","x":-5,"y":2.5}', 10)
    assert cmd == CreateCommand("hi", "a.b:c-1", "#aBc123", -5.0, 2.5, None)


def test_socket_create_ignores_author_but_rest_takes_it() -> None:
    body = {"text": "t", "author": "mallory"}
    assert create_command(body, 10, allow_author=False).author is None
    assert create_command(body, 10, allow_author=True).author == "mallory"
    assert create_command({"text": "t", "author": ""}, 10, allow_author=True).author is None


def test_update_keeps_only_sent_fields_and_null_clears() -> None:
    cmd = parse_frame('{"type":"update","id":3,"x":null,"color":null,"version":2}', 10)
    assert cmd == UpdateCommand(3, {"x": None, "color": None}, 2, None)


def test_delete_and_ping() -> None:
    assert parse_frame('{"type":"delete","id":1,"client_id":"z"}', 10) == DeleteCommand(1, None, "z")
    assert parse_frame('{"type":"ping","extra":1}', 10) == Ping()


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "nul",
        "[]",
        "1",
        '{"type":null}',
        '{"type":"create","text":"a","x":1e6000}',
        '{"type":"create","text":"a","x":false}',
        '{"type":"create","text":"a","color":"#GGGGGG"}',
        '{"type":"create","text":"a","client_id":"' + "c" * 65 + '"}',
        '{"type":"update","id":0,"text":"a"}',
        '{"type":"update","id":9223372036854775808,"text":"a"}',
        '{"type":"update","id":1,"version":0,"text":"a"}',
        '{"type":"create","text":{"nested":[[[[]]]]}}',
    ],
)
def test_bad_frames_are_bad_request(raw: str) -> None:
    with pytest.raises(BadRequest):
        parse_frame(raw, 10)


def test_text_over_the_limit_is_too_large_and_counts_code_points() -> None:
    assert parse_frame('{"type":"create","text":"🧡🧡🧡"}', 3)
    with pytest.raises(TooLarge) as info:
        parse_frame('{"type":"create","text":"abcd","client_id":"k"}', 3)
    assert info.value.client_id == "k"
    with pytest.raises(TooLarge):
        parse_frame('{"type":"update","id":1,"text":"abcd"}', 3)


def test_error_echoes_short_string_client_ids_only() -> None:
    with pytest.raises(BadRequest) as info:
        parse_frame('{"type":"create","client_id":"not valid!"}', 10)
    assert info.value.client_id == "not valid!"
    with pytest.raises(BadRequest) as info:
        parse_frame('{"type":"create","client_id":["x"]}', 10)
    assert info.value.client_id is None


@pytest.mark.parametrize("board", ["a", "A-b_c", "9" * 64])
def test_good_board_names(board: str) -> None:
    assert check_board(board) == board


@pytest.mark.parametrize("board", ["", "-a", "_a", "a b", "a.b", "a/b", "é", "a" * 65])
def test_bad_board_names(board: str) -> None:
    with pytest.raises(BadRequest):
        check_board(board)


@pytest.mark.parametrize("raw", ["", "-1", "1.5", "1e3", " 1", "\u0661", "99999999999999999999"])
def test_bad_integer_params(raw: str) -> None:
    with pytest.raises(BadRequest):
        parse_int_param("since", raw, low=0, high=2**63 - 1)


def test_handshake_defaults_and_values() -> None:
    h = handshake({})
    assert (h.since, h.epoch, h.name, h.batch, h.token) == (None, None, None, False, None)
    h = handshake({"since": "7", "epoch": "e", "name": "Ann", "batch": "1", "whatever": "x"})
    assert (h.since, h.epoch, h.name, h.batch) == (7, "e", "Ann", True)
    assert handshake({"name": ""}).name is None
    for bad in ({"name": "x" * 65}, {"name": "a\nb"}, {"batch": "2"}, {"epoch": "e" * 129}):
        with pytest.raises(BadRequest):
            handshake(bad)


@pytest.mark.parametrize("name", ["Ann", "x" * 64, "Zoë 🙂", "a b-c_d.e"])
def test_display_names_allowed_on_both_paths(name: str) -> None:
    assert check_name(name) == name
    assert handshake({"name": name}).name == name
    assert create_command({"text": "t", "author": name}, 10, allow_author=True).author == name


@pytest.mark.parametrize("name", ["x" * 65, "a\x00b", "\x1b[31mred", "a\nb", "tab\there", "\u2028", "\x7f"])
def test_display_names_refused_on_both_paths(name: str) -> None:
    with pytest.raises(ValueError, match="printable"):
        check_name(name)
    with pytest.raises(BadRequest, match="printable"):
        handshake({"name": name})
    with pytest.raises(BadRequest, match=r"^author: .*printable"):
        create_command({"text": "t", "author": name}, 10, allow_author=True)
