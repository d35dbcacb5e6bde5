# Two commands for everyone: `make run` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench chat clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

# Bytecode compiled once, even where PYTHONDONTWRITEBYTECODE is set: each start is faster.
run: $(VENV)/.installed
	$(BIN)/python -m compileall -q bot storage
	$(BIN)/hotline migrate
	$(BIN)/hotline nlu train
	$(BIN)/hotline run

chat: $(VENV)/.installed
	$(BIN)/hotline chat

# The Bot API emulator of the end-to-end tests (Node 20); reinstalled when the lock file changes.
tests/e2e/node_modules/.installed: tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund --silent
	touch $@

test: $(VENV)/.installed-dev tests/e2e/node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest

# Pictures of the web console's pages for the README (a real Chromium, see tests/browser.py).
screenshots: $(VENV)/.installed-dev
	HOTLINE_SCREENSHOTS=docs/screenshots HOTLINE_TEST_DATABASES=sqlite \
		$(BIN)/pytest -q tests/web/test_screenshots.py

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
