# Two commands on a fresh machine with Python 3.11, pip and apt:
#   make demo   install into .venv, then run the main job on the bundled demo data
#   make test   install what tests need (Chromium from Debian included), then run every test
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
TSTAMP  := $(VENV)/.installed-test
OUT     ?= out/demo
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test install install-test chromium lint bench bench-bills fuzz reliability clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(TSTAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(STAMP)

install-test: $(TSTAMP) chromium

# Browser tests drive Debian's Chromium through Playwright; never a downloaded browser.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian chromium (browser tests)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

demo: $(STAMP)
	$(BIN)/exitkit demo --out $(OUT)

test: install-test
	$(BIN)/ruff check exitkit tests $(wildcard bench tools)
	$(BIN)/python -m pytest -n 2 -q

lint: $(TSTAMP)
	$(BIN)/ruff check exitkit tests $(wildcard bench tools)
	$(BIN)/ruff format --check exitkit tests $(wildcard bench tools)

clean:
	rm -rf $(VENV) out *.duckdb .pytest_cache dist build

# Benchmarks (not part of `make test`): writes docs/benchmarks.md.
include bench/Makefile.inc

# Hardening (not part of `make test`): the larger fuzz budget, and docs/reliability.md.
fuzz: $(TSTAMP)
	EXITKIT_FUZZ=fuzz $(BIN)/python -m pytest -q -n 2 tests/test_fuzz_readers.py

reliability: $(TSTAMP)
	$(BIN)/python tools/reliability.py --profile fuzz
