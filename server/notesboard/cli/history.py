"""`notesboard history BOARD`: every change of a board after `--since`, who made it and when, through REST.

Pages are followed until the end (`more`). `--format md` says what each change did to its note (created,
edited with the old and new text, moved, resized, recoloured, restacked, deleted, restored), comparing it
with the note's previous state: the one before it in the output, or the board at `--since` (`?at=`).
`--format json` prints the changes as the API gives them, all pages in one document.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import orjson
import typer

from notesboard.cli.exchange import Token, Url, _call, _fail
from notesboard.client import AsyncRest, BadRequest

__all__ = ["describe", "history_command"]

Note = dict[str, Any]
PAGE = 10_000
QUOTE_MAX = 60


def _quote(text: str) -> str:
    short = text if len(text) <= QUOTE_MAX else text[: QUOTE_MAX - 1] + "…"
    return orjson.dumps(short).decode()  # one line, quoted: a note's text is data, never markup


def describe(change: dict[str, Any], before: Note | None) -> str:
    """What one change did to its note, in words, given the note's state before it (None: not known)."""
    note, op = change["note"], change["op"]
    what = f"note {note['id']}"
    if op == "deleted":
        return f"deleted {what} ({_quote(before['text'] if before else note['text'])})"
    if op == "created":
        restored = note["version"] > 1
        return f"{'restored' if restored else 'created'} {what}: {_quote(note['text'])}"
    if before is None:
        return f"changed {what}"
    parts = []
    if note["text"] != before["text"]:
        parts.append(f"edited {what}: {_quote(before['text'])} → {_quote(note['text'])}")
    if (note["x"], note["y"]) != (before["x"], before["y"]):
        parts.append(f"moved {what}")
    if (note["w"], note["h"]) != (before["w"], before["h"]):
        parts.append(f"resized {what}")
    if note["color"] != before["color"]:
        parts.append(f"recoloured {what} ({before['color'] or 'none'} → {note['color'] or 'none'})")
    if note["z"] != before["z"]:
        parts.append(f"restacked {what}")
    return "; ".join(parts) or f"touched {what} (nothing visible changed)"


async def _fetch(api: AsyncRest, board: str, since: int) -> tuple[dict[str, Any], dict[int, Note]]:
    """All changes after `since` (every page), and the board at `since` when the history reaches back to it."""
    first = await api.history(board, since=since, limit=PAGE)
    changes, page = list(first["changes"]), first
    while page["more"]:
        page = await api.history(board, since=changes[-1]["seq"], limit=PAGE)
        changes.extend(page["changes"])
    before: dict[int, Note] = {}
    if since > 0 and not first["truncated"]:
        try:
            before = {n["id"]: n for n in (await api.notes_at(board, since, limit=PAGE))["notes"]}
        except BadRequest:  # pruned meanwhile: the first change of each note is described without it
            before = {}
    return {**first, "changes": changes, "more": False}, before


def _markdown(board: str, since: int, page: dict[str, Any], before: dict[int, Note]) -> str:
    lines = [f"# History of {board}", ""]
    if page["truncated"]:
        lines += [f"_Changes up to seq {page['oldest_at']} are no longer kept._", ""]
    if not page["changes"]:
        lines.append(f"_No changes after seq {since}._" if since else "_No changes._")
    for change in page["changes"]:
        note = change["note"]
        when = change["at"].replace("T", " ").split(".")[0]
        who = change["by"] or "someone"
        lines.append(f"- **#{change['seq']}** {when} · {who} · {describe(change, before.get(note['id']))}")
        before[note["id"]] = note
    return "\n".join(lines) + "\n"


def history_command(
    board: Annotated[str, typer.Argument(help="Board name.")],
    since: Annotated[int, typer.Option("--since", min=0, help="Only the changes after this seq.")] = 0,
    fmt: Annotated[
        str, typer.Option("--format", help="md (what each change did, for reading) or json (as the API says).")
    ] = "md",
    url: Url = "http://127.0.0.1:8000",
    token: Token = None,
) -> None:
    """Print a board's history: every change after --since, oldest first, with who made it and when.

    Changes older than the server's history_days are gone; the output then says from which seq on it is
    complete."""
    if fmt not in ("md", "json"):
        raise _fail("--format must be md or json")
    page, before = _call(url, token, lambda api: _fetch(api, board, since))
    if fmt == "json":
        sys.stdout.write(orjson.dumps(page, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(_markdown(board, since, page, before))
