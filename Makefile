# ALLPath: the two quick-start commands are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit venv clean rules-check fhir-packages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,jax]"
	touch $(STAMP)

venv: $(STAMP)

## Set up and run the demo on the bundled example patients.
run: $(STAMP)
	$(BIN)/allpath demo

## Set up and run the whole suite: lint, types, rule packs, tests.
test: $(STAMP) lint typecheck rules-check unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

rules-check: $(STAMP)
	$(BIN)/allpath rules check

## The pinned FHIR packages (mCODE 4.0.0 and terminology) of the conformance tests; a failed
## fetch does not stop the run: those tests then fail and say what is missing.
fhir-packages: $(STAMP)
	-$(BIN)/python scripts/fetch_fhir_packages.py

unit: $(STAMP) fhir-packages
	$(BIN)/pytest

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache
