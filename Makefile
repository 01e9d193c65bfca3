# `make demo` and `make test` work on a fresh clone: they create .venv, install the pinned
# dependencies and the project (editable, so spiders/ edits are live), then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench clean redis-deps

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: install
	$(BIN)/crawler demo

test: install
	$(BIN)/python -m pytest -q

# Debian's redis-server, for distributed mode and its tests (which start their own on loopback).
redis-deps:
	command -v redis-server >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 redis-server; }

clean:
	rm -rf $(VENV) build *.egg-info output/*.db output/*.db-*
