"""`Settings` as command-line options and as README's settings table: config.py is the one source.

Each field of `Settings` becomes a `notesboard serve` option of the same name (`max_text` -> `--max-text`)
with the field's description as its help and its default in the help text. An option that is not given
passes nothing, so `Settings` still reads NOTESBOARD_<NAME> from the environment and then its default:
command line > environment > default, as before.

`python -m notesboard.cli.settings [README.md]` prints (or rewrites in place, between the two markers) the
README table; tests/test_settings_docs.py fails when the README and `Settings` disagree.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import typer
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from typer.core import TyperCommand

from notesboard.runtime.config import Settings

__all__ = ["README_BEGIN", "README_END", "PlainHelpCommand", "readme_table", "settings_options", "update_readme"]

README_BEGIN = "<!-- settings table: generated from notesboard/runtime/config.py by `make docs` -->"
README_END = "<!-- end of settings table -->"


class PlainHelpCommand(TyperCommand):
    """Click's plain help layout: with 40 options rich's table cuts the long names at 80 columns; this one
    puts a long name on its own line and wraps the help text below it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rich_markup_mode = None  # TyperCommand.format_help: None means click's own layout


def _plain(annotation: Any) -> Any:
    """The annotation without `None` and `Annotated[...]` wrappers."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        annotation = rest[0] if len(rest) == 1 else annotation
    return annotation


def default_text(field: FieldInfo) -> str:
    """The default as a person reads it: on/off, unset, none, or the value."""
    default = field.get_default(call_default_factory=True) if field.default is PydanticUndefined else field.default
    if isinstance(default, bool):
        return "on" if default else "off"
    if default is None:
        return "unset"
    if default == []:
        return "none"
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def _option(name: str, field: FieldInfo) -> tuple[Any, Any]:
    """(annotation, typer.Option) for one field; every option defaults to None, meaning "not given"."""
    kind = _plain(field.annotation)
    help_text = f"{field.description} (default: {default_text(field)})"
    common: dict[str, Any] = {"help": help_text, "show_default": False}
    if get_origin(kind) is Literal:  # typer checks the choice and lists them
        return kind | None, typer.Option(**common)
    if kind is bool:
        return bool | None, typer.Option(f"--{name.replace('_', '-')}/--no-{name.replace('_', '-')}", **common)
    if kind in (int, float):
        return kind | None, typer.Option(**common)
    return str | None, typer.Option(**common)  # str, comma-separated lists, paths: Settings parses them


def settings_options(command: Callable[[dict[str, Any]], None]) -> Callable[..., None]:
    """Turn `command(given)` into a typer command with one option per field of `Settings`.

    `given` holds only the options the user gave, by field name, ready for `Settings.model_validate`.
    """
    params, annotations = [], {}
    for name, field in Settings.model_fields.items():
        annotation, option = _option(name, field)
        annotation = annotations[name] = Annotated[annotation, option]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation))

    @functools.wraps(command)
    def wrapper(**values: Any) -> None:
        command({k: v for k, v in values.items() if v is not None})

    wrapper.__signature__ = inspect.Signature(params, return_annotation=None)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**annotations, "return": None}
    del wrapper.__wrapped__  # typer must see the generated signature, not command's
    return wrapper


def readme_table() -> str:
    """The README's settings table, one row per field of `Settings`."""
    rows = ["| setting | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        flag = f"`--{name.replace('_', '-')}`, `NOTESBOARD_{name.upper()}`"
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| {flag} | {default_text(field).replace('|', chr(92) + '|')} | {meaning} |")
    return "\n".join(rows)


def update_readme(text: str) -> str:
    """`text` with the part between README_BEGIN and README_END replaced by the current table."""
    start, end = text.index(README_BEGIN) + len(README_BEGIN), text.index(README_END)
    return f"{text[:start]}\n{readme_table()}\n{text[end:]}"


if __name__ == "__main__":
    if len(sys.argv) > 1:
        readme = Path(sys.argv[1])
        readme.write_text(update_readme(readme.read_text()))
    else:
        print(readme_table())
