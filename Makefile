# `make demo` and `make test` work on a fresh clone: they create .venv, install the pinned
# dependencies and the project (editable, so spiders/ edits are live), then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The pinned wheels, kept: installs come from them, and tests/test_packaging.py installs the
# project's own wheel from them into an empty venv, offline.
WHEELS := $(VENV)/wheels

.PHONY: install demo test bench clean redis-deps browser-deps screenshots

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt -w $(WHEELS)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-index --find-links $(WHEELS) \
		-r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)
	@echo "installed: $(BIN)/crawler. Put it on PATH for this shell with: . $(BIN)/activate"

demo: install
	$(BIN)/crawler demo

test: install
	$(BIN)/python -m pytest -q

# Debian's redis-server, for distributed mode and its tests (which start their own on loopback).
redis-deps:
	command -v redis-server >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 redis-server; }

# Debian's Chromium (driven by Playwright, which never downloads a browser) and a CJK font,
# for the browser tests of `crawler serve`. .ci/run calls this before `make test`.
BROWSER_PACKAGES := chromium fonts-wqy-microhei
browser-deps:
	dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(BROWSER_PACKAGES))

# Refresh the screenshots (README, docs/) of `crawler serve` from the browser tests.
screenshots: install browser-deps
	mkdir -p docs && SCREENSHOT_DIR=docs $(BIN)/python -m pytest -q -m browser

clean:
	rm -rf $(VENV) build *.egg-info output/*.db output/*.db-*
