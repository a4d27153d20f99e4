"""A small tmpfs of its own for fault tests (disk full, read-only); skips, saying why, where mount is refused."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> None:
    r = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise OSError(r.stderr.strip() or f"mount exited {r.returncode}")


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "2m", *, read_only: bool = False) -> Iterator[Path]:
    """Mount a tmpfs of `size` at `where` (needs root or CAP_SYS_ADMIN); unmounted at the end."""
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    try:
        _mount("-t", "tmpfs", "-o", options, "tmpfs", str(where))
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {exc}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=10)


def remount(where: Path, options: str) -> None:
    """Change a mounted tmpfs's options, e.g. `size=4m` to give space back."""
    _mount("-o", f"remount,{options}", str(where))
