# The commands of the README: `make serve` (publish the quickstart notebook), `make chat` (try an
# app in the terminal) and `make test` (everything CI runs). All create .venv on first use;
# nothing is installed outside this folder except system packages (scripts/system-deps.sh):
# Node.js/npm for every target (pip builds the front end), Chromium only for `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	bash scripts/system-deps.sh build
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,dev]"
	touch $(STAMP)

.PHONY: install test lint serve chat bench
install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/mypy

test: lint
	bash scripts/system-deps.sh test
	# npm ci installs exactly js/package-lock.json and fails if package.json disagrees with it.
	# The lock holds every platform's optional binaries (rollup's), so `npm install` (which the
	# pip build runs) leaves it as committed; tests/test_frontend_deps.py checks it.
	cd js && npm ci --no-audit --no-fund && npm test
	# Azurite (Azure Storage emulator) for tests/storage, in its own git-ignored node_modules.
	cd tests/storage/azurite && npm ci --no-audit --no-fund
	$(VENV)/bin/pytest

serve: $(STAMP)
	$(VENV)/bin/nbchat serve notebooks/quickstart.ipynb

chat: $(STAMP)
	$(VENV)/bin/nbchat chat examples/echo.py

bench: $(STAMP)
	$(PY) benchmarks/stream.py
