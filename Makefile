# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: install run test test-unit openapi lint check format clean

$(BIN)/fairpeer: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/fairpeer

# What the browser tests inject into pages (axe-core), from the npm registry at the version package-lock.json pins.
# Without npm the accessibility checks skip (or fail, under FAIRPEER_REQUIRE_SERVICES=1).
node_modules/axe-core/axe.min.js: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the browser tests' accessibility checks need axe-core (install npm, then make test)"; fi

install: $(BIN)/fairpeer

## Run the service on the embedded default (SQLite file under ./instance, background work in-process).
run: install
	$(BIN)/fairpeer init
	@echo "serving http://127.0.0.1:$(PORT); demo sign-in links for this port: PORT=$(PORT) $(BIN)/fairpeer demo"
	$(BIN)/fairpeer serve --port $(PORT)

## Run every test: unit, integration (PostgreSQL, Redis, worker, beat) and browser.
test: install node_modules/axe-core/axe.min.js
	$(BIN)/python -m pytest

test-unit: install
	$(BIN)/python -m pytest tests/unit

## Regenerate the committed OpenAPI document after changing the API.
openapi: install
	$(BIN)/fairpeer openapi > docs/openapi.json

CODE := reviews workers calibration detection credentials tests bench migrations

lint: install
	$(BIN)/ruff check $(CODE)

## What CI checks before the tests: lint, the formatter, types, and which way imports point.
check: install
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix $(CODE)
	$(BIN)/ruff format $(CODE)

clean:
	rm -rf $(VENV) instance .pytest_cache
