# Panjereh: the two commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-test lint format messages openapi bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Run the demo portal with the calibrated national dataset on SQLite at http://127.0.0.1:8000
demo: $(VENV)/.installed
	$(BIN)/panjereh demo

## Run the whole suite: lint, SQLite unit tests, PostgreSQL suite, browser tests
test: $(VENV)/.installed-test
	bash scripts/test.sh

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports  # the dependency order of docs/architecture.md ([tool.importlinter])

format: $(VENV)/.installed-test
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

## Extract and compile the translation catalogues (needs GNU gettext)
messages: $(VENV)/.installed
	cd src/panjereh && PANJEREH_VAR=$$(mktemp -d) ../../$(BIN)/panjereh makemessages -l fa -l en --no-obsolete --no-location
	cd src/panjereh && PANJEREH_VAR=$$(mktemp -d) ../../$(BIN)/panjereh compilemessages

openapi: $(VENV)/.installed
	PANJEREH_MODE=test PANJEREH_VAR=$$(mktemp -d) $(BIN)/panjereh spectacular --file docs/openapi.yaml --validate --fail-on-warn

## Run every benchmark (loopback only, bounded in time); figures go in docs/benchmarks.md by hand
bench: $(VENV)/.installed-test
	for b in catalogue exchange identity services oversight feedback status payments permits phone; do $(BIN)/python benchmarks/$$b/run.py || exit 1; done
	if [ -n "$$DATABASE_URL" ] && [ -n "$$CELERY_BROKER_URL" ]; then $(BIN)/python benchmarks/mailbox/run.py || exit 1; else echo "benchmarks/mailbox: needs DATABASE_URL (PostgreSQL), REDIS_URL, CELERY_BROKER_URL; skipped"; fi

clean:
	rm -rf $(VENV) var .pytest_cache
