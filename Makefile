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

.PHONY: demo test install install-test chromium lint bench bench-bills fuzz reliability clean plotly-bundle screenshots libreoffice

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(TSTAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(STAMP)

install-test: $(TSTAMP) chromium libreoffice

# The workbook test recalculates the xlsx headless with LibreOffice Calc (skipped without it).
libreoffice:
	@if ! command -v soffice >/dev/null; then \
	  echo "installing Debian libreoffice-calc-nogui (workbook recalculation test)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libreoffice-calc-nogui >/dev/null; \
	fi

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

# plotly.js's basic bundle (scatter, bar, pie; 1.2 MB) at the version the installed plotly embeds,
# from npm, vendored as package data: keeps each report under 2 MB (issue 16).
PLOTLY_STATIC := exitkit/report/static
plotly-bundle: $(STAMP)
	V=$$($(BIN)/python -c 'from plotly.offline import get_plotlyjs_version as v; print(v())'); \
	T=$$(mktemp -d); cd $$T && npm pack -q plotly.js-basic-dist-min@$$V >/dev/null && tar xzf plotly.js-basic-dist-min-$$V.tgz; \
	cd $(CURDIR) && cp $$T/package/plotly-basic.min.js $(PLOTLY_STATIC)/ && cp $$T/package/LICENSE $(PLOTLY_STATIC)/plotly-basic.LICENSE.txt; \
	rm -rf $$T; echo "plotly.js basic $$V → $(PLOTLY_STATIC)/plotly-basic.min.js"

# The README's pictures of the report: first screen (1280 px) and the printed summary (A4 width).
screenshots: $(TSTAMP) chromium
	$(BIN)/python tools/screenshots.py --out $(OUT)
