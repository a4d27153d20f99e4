"""The load tester's assignment of sockets to boards and connect order, and the address it dials."""

from __future__ import annotations

from notesboard.loadtest.config import LoadConfig
from notesboard.loadtest.dial import server_address


def order(cfg: LoadConfig) -> list[int]:
    return sorted(range(cfg.clients), key=cfg.join_rank)


def test_spread_goes_round_the_boards() -> None:
    cfg = LoadConfig(boards=3, clients=7)
    assert order(cfg) == list(range(7))
    assert [cfg.board(i)[-1] for i in order(cfg)] == list("0120120")


def test_board_order_brings_a_board_in_together() -> None:
    cfg = LoadConfig(boards=3, clients=7, join_order="board")
    assert order(cfg) == [0, 3, 6, 1, 4, 2, 5]
    assert [cfg.board(i)[-1] for i in order(cfg)] == list("0001122")


def test_the_server_address_of_a_base_url() -> None:
    assert server_address("http://127.0.0.1:8091") == ("127.0.0.1", 8091)
    assert server_address("ws://127.0.0.2:8000/") == ("127.0.0.2", 8000)
    assert server_address("127.0.0.1:9") == ("127.0.0.1", 9)
    assert server_address("https://127.0.0.1") == ("127.0.0.1", 443)
