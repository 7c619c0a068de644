# Two commands set up a fresh machine: `make serve` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install serve test check lint typecheck unit load-ci load-long bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# The browser tests drive Debian's chromium (Playwright's own browser download needs the internet).
	test -x /usr/bin/chromium || { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }
	$(BIN)/python -c 'from service.api.settings import load_catalog; load_catalog(None)'  # compiles the catalog into the cache
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/inference-cost serve

lint: $(STAMP)
	$(BIN)/ruff check pricing service tests load benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest

# The load gate (load/run.py, thresholds in load/thresholds.toml): starts the service on a free
# loopback port, runs locust headless, fails with a one-line reason when a threshold is crossed.
# Override a threshold with LOAD_<FIELD>=... or ARGS='--max-p95-ms 200'; reports: load/reports/.
load-ci: $(STAMP)
	$(BIN)/python -m load.run --profile ci $(ARGS)

load-long: $(STAMP)
	$(BIN)/python -m load.run --profile long $(ARGS)

test: lint typecheck unit load-ci

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
