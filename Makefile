# The commands of the README: `make serve` (publish the quickstart notebook), `make chat` (try an
# app in the terminal) and `make test` (everything CI runs). All create .venv on first use;
# nothing is installed outside this folder except Debian packages the end-to-end tests need
# (see scripts/system-deps.sh).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	bash scripts/system-deps.sh
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
	# npm install, not npm ci: npm 11 records only this platform's optional rollup binary in the
	# lock, which npm ci then calls out of sync. install keeps the lock as committed.
	cd js && npm install --no-audit --no-fund && npm test
	# Azurite (Azure Storage emulator) for tests/storage, in its own git-ignored node_modules.
	cd tests/storage/azurite && npm ci --no-audit --no-fund
	$(VENV)/bin/pytest

serve: $(STAMP)
	$(VENV)/bin/nbchat serve notebooks/quickstart.ipynb

chat: $(STAMP)
	$(VENV)/bin/nbchat chat examples/echo.py

bench: $(STAMP)
	$(PY) benchmarks/stream.py
