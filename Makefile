# Two commands matter: `make run` and `make test`. Everything else is for developers.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: run test lint typecheck check bench screenshot docs clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "error: $(PY) not found (set PY=/path/to/python3.11)"; exit 1; }
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Serve a board on http://127.0.0.1:8000 with the embedded SQLite file ./notesboard.db
run: $(STAMP)
	$(BIN)/notesboard serve --host 127.0.0.1 --port 8000

## Run the whole test suite (starts real servers, each on a port it picks), TEST_JOBS at a time
TEST_JOBS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadscope

lint: $(STAMP)
	$(BIN)/ruff check server tests bench
	$(BIN)/ruff format --check server tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

## Benchmarks against the tutorial baseline (not part of `make test`); e.g. make bench BENCH_ARGS=--quick
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## Save docs/screenshot.png: a board with several notes, drawn by headless Chromium (needs /usr/bin/chromium)
screenshot: $(STAMP)
	NOTESBOARD_SCREENSHOT=docs/screenshot.png $(BIN)/python -m pytest tests/browser/test_board_page.py::test_screenshot -q

## Regenerate README's settings table from Settings (server/notesboard/config.py)
docs: $(STAMP)
	$(BIN)/python -m notesboard.settings_cli README.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
