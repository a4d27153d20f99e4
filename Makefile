# Two commands matter: `make run` and `make test`. Everything else is for developers.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
# Two stamps: `make run` installs what serving needs; the dev tools (pytest, playwright, mypy...) come only
# with the targets that use them.
RUN_STAMP ?= $(VENV)/.installed-run
DEV_STAMP ?= $(VENV)/.installed-dev
# `make run` passes --host/--port only when HOST/PORT are given (`PORT=8013 make run`); otherwise
# `notesboard serve` reads NOTESBOARD_HOST/NOTESBOARD_PORT and every other NOTESBOARD_* setting itself.
HOST    ?=
PORT    ?=
SERVE_ARGS := $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

# The client's type checker (tsc) comes from npm with package-lock.json; only the developer targets use it
# (`make run` never needs node).
NODE_STAMP := node_modules/.installed
NPM        := $(shell command -v npm 2>/dev/null)

.PHONY: run test lint typecheck check bench screenshot docs vendor clean

$(VENV)/bin/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "error: $(PY) not found (set PY=/path/to/python3.11)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(NODE_STAMP)

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(RUN_STAMP) $(DEV_STAMP)

## Serve a board on http://127.0.0.1:8000 (or HOST/PORT, or the NOTESBOARD_* settings) with ./notesboard.db
run: $(RUN_STAMP)
	$(BIN)/notesboard serve $(SERVE_ARGS)

## Run the whole test suite (starts real servers, each on a port it picks), TEST_JOBS at a time
# 3 on 2 cores: with 2 the cores were idle a quarter of the time (tests wait on servers, sockets, browsers).
# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set (as on these machines): each test process
# and each of the dozens of Python processes the tests exec would otherwise compile the package and the tests
# again (collection alone: 5.4 s of CPU per test process instead of 2.9 s). __pycache__ is git-ignored.
TEST_JOBS ?= 3
test: $(DEV_STAMP) $(if $(NPM),$(NODE_STAMP))
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadscope

lint: $(DEV_STAMP) $(NODE_STAMP)
	$(BIN)/ruff check server tests bench
	$(BIN)/ruff format --check server tests bench
	node_modules/.bin/tsc -p client/jsconfig.json

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

check: lint typecheck test

## Benchmarks against the tutorial baseline (not part of `make test`); e.g. make bench BENCH_ARGS=--quick
bench: $(DEV_STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## Save docs/screenshot.png, docs/replay.png and docs/retro.png, drawn by headless Chromium (needs /usr/bin/chromium)
screenshot: $(DEV_STAMP)
	NOTESBOARD_SCREENSHOT=docs/screenshot.png NOTESBOARD_REPLAY_SCREENSHOT=docs/replay.png \
		NOTESBOARD_RETRO_SCREENSHOT=docs/retro.png $(BIN)/python -m pytest -q \
		tests/browser/test_board_page.py::test_screenshot tests/browser/test_history_page.py::test_replay_screenshot \
		tests/browser/test_votes_page.py::test_retro_screenshot

## Regenerate README's settings table (from runtime/config.py) and client/contract.js (from contract/fields.py)
docs: $(DEV_STAMP)
	$(BIN)/python -m notesboard.cli.settings README.md
	$(BIN)/python -m notesboard.cli.jscontract client/contract.js

## Copy the browser libraries (yjs, y-websocket, lib0, y-protocols) from npm into client/vendor/ and the page's import map
vendor: $(NODE_STAMP)
	node client/vendor/update.mjs

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
