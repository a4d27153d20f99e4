"""client/vendor/ holds the browser libraries as npm installed them from package-lock.json (`make vendor`):
every vendored file is the one the manifest names (SHA-256), every package at the version the lock file
pins, and board.html's import map is the manifest's. With node_modules present (`npm ci`), the files are
compared with the installed packages too. `make run` serves these files and never needs node."""

from __future__ import annotations

import hashlib
import json
import re

from tests.support import ROOT

VENDOR = ROOT / "client" / "vendor"


def _manifest() -> dict[str, dict[str, object]]:
    data: dict[str, dict[str, object]] = json.loads((VENDOR / "manifest.json").read_text())
    return data


def test_every_vendored_file_is_the_one_the_manifest_names() -> None:
    files = _manifest()["files"]
    on_disk = {
        str(p.relative_to(VENDOR))
        for p in VENDOR.rglob("*")
        if p.is_file() and p.name not in ("manifest.json", "update.mjs") and not p.name.startswith("LICENSE")
    }
    assert on_disk == set(files)
    for rel, digest in files.items():
        assert hashlib.sha256((VENDOR / rel).read_bytes()).hexdigest() == digest, rel


def test_the_packages_are_the_versions_the_lock_file_pins() -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    for name, info in _manifest()["packages"].items():
        assert isinstance(info, dict)
        assert lock[f"node_modules/{name}"]["version"] == info["version"], name
        assert info["license"] == "MIT", name  # README lists them
        assert (VENDOR / name / "LICENSE").is_file() or (VENDOR / name / "LICENSE.md").is_file(), name


def test_the_page_import_map_is_the_manifest_s() -> None:
    html = (ROOT / "client" / "board.html").read_text()
    found = re.search(r'<script type="importmap">(.*?)</script>', html, re.S)
    assert found is not None
    assert json.loads(found.group(1)) == {"imports": _manifest()["imports"]}
    for url in _manifest()["imports"].values():
        assert isinstance(url, str) and (VENDOR / url.removeprefix("/static/vendor/")).is_file(), url


def test_the_files_are_those_npm_installed_when_node_modules_is_there() -> None:
    modules = ROOT / "node_modules"
    files = _manifest()["files"]
    present = [rel for rel in files if (modules / rel).is_file()]
    for rel in present:
        assert (modules / rel).read_bytes() == (VENDOR / rel).read_bytes(), f"{rel}: run `make vendor`"
