"""Secrets: weak HS256 keys are refused at start-up and by `token`; `token --new-secret`; board patterns."""

from __future__ import annotations

import subprocess

import jwt
import pytest

from notesboard.core.auth import MIN_SECRET_BYTES, check_pattern, check_secret, new_secret
from tests.ports import free_port
from tests.support.cli import exec_run

STRONG = "s" * MIN_SECRET_BYTES


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return exec_run(*args, env=env, columns=80, timeout=30)


def test_secret_length_is_counted_in_bytes() -> None:
    assert check_secret(STRONG) == STRONG
    assert check_secret("é" * 16) == "é" * 16  # 32 bytes in UTF-8
    with pytest.raises(ValueError, match=r"31 bytes.*--new-secret"):
        check_secret("s" * 31)


def test_new_secret_is_random_and_long_enough() -> None:
    a, b = new_secret(), new_secret()
    assert a != b and check_secret(a) == a


@pytest.mark.parametrize("pattern", ["*", "team-*", "team-?", "[ab]oard", "board_1", "x" * 64])
def test_good_patterns(pattern: str) -> None:
    assert check_pattern(pattern) == pattern


@pytest.mark.parametrize("pattern", ["", "bad board!!", "a/b", "team.*", "ünï", "x" * 129, "a\nb"])
def test_bad_patterns(pattern: str) -> None:
    with pytest.raises(ValueError, match="can match no board"):
        check_pattern(pattern)


@pytest.mark.parametrize("via_env", [False, True])
def test_serve_refuses_a_short_secret_before_starting(via_env: bool) -> None:
    port = str(free_port())
    if via_env:
        r = cli("serve", "--port", port, NOTESBOARD_AUTH_SECRET="x")
    else:
        r = cli("serve", "--port", port, "--auth-secret", "x")
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "--auth-secret (NOTESBOARD_AUTH_SECRET)" in lines[0] and "at least 32" in lines[0]
    assert "notesboard token --new-secret" in lines[0]


def test_token_refuses_a_short_secret_with_a_hint() -> None:
    r = cli("token", "team-*", "--secret", "short")
    assert r.returncode == 1 and r.stdout == ""
    assert "at least 32" in r.stderr and "--new-secret" in r.stderr and "Warning" not in r.stderr
    r = cli("token", "team-*", NOTESBOARD_AUTH_SECRET="short")
    assert r.returncode == 1 and "at least 32" in r.stderr


def test_token_refuses_a_pattern_no_board_can_match() -> None:
    r = cli("token", "bad board!!", "--secret", STRONG)
    assert r.returncode == 1 and r.stdout == "" and "can match no board" in r.stderr


def test_new_secret_mints_tokens_the_server_accepts() -> None:
    r = cli("token", "--new-secret")
    assert r.returncode == 0, r.stderr
    secret = r.stdout.strip()
    assert len(secret.encode()) >= MIN_SECRET_BYTES and len(r.stdout.splitlines()) == 1
    r = cli("token", "team-*", "--role", "read", "--secret", secret)
    assert r.returncode == 0, r.stderr
    claims = jwt.decode(r.stdout.strip(), secret, algorithms=["HS256"])
    assert claims["board"] == "team-*" and claims["role"] == "read"


def test_token_without_a_board_says_what_to_give() -> None:
    r = cli("token", "--secret", STRONG)
    assert r.returncode == 1 and "--new-secret" in r.stderr
