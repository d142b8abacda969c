# ALLPath: the two quick-start commands are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit venv clean rules-check lock fhir-packages

LOCK   := requirements/lock.txt

# The exact dependency set, pinned with sha256 hashes (requirements/lock.txt), then ALLPath
# itself without resolving anything again. `make lock` re-resolves after a change to the
# dependencies in pyproject.toml (tests/test_lock.py fails until the lock covers them).
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

## Set up, assess the bundled example patients, then load them into the embedded database
## (SQLite, ./allpath.db) with a demo account and print how to open the web application.
run: $(STAMP)
	$(BIN)/allpath demo
	$(BIN)/allpath users demo

## Set up and run the whole suite: lint, types, rule packs, tests. The type check runs beside
## the tests (it is single-threaded; the test workers leave the cores idle at times).
test: $(STAMP) lint rules-check
	$(MAKE) --no-print-directory -j2 typecheck unit

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

## The suite in two parts: test files spread over the cores (pytest-xdist; a file, or all of
## tests/sim/, goes to one worker: groups set in tests/conftest.py; one PostgreSQL database per
## worker), then the few `serial` tests (real Dask clusters restarting workers) alone. Plain
## `pytest` still runs everything in one process. SERIAL_TESTS names the files holding the
## `serial` tests, so that the second part does not collect the whole suite again
## (tests/test_serial_files.py fails when a `serial` test lives in a file not listed here).
SERIAL_TESTS := tests/test_cluster_errors.py tests/test_cluster_recovery.py \
                tests/test_screen_cluster_paths.py

unit: $(STAMP) fhir-packages
	$(BIN)/pytest -n auto --dist loadgroup -m "not serial"
	$(BIN)/pytest -m serial $(SERIAL_TESTS)

## Re-resolve requirements/lock.txt (network; uv from PyPI in a throw-away venv). Versions
## already installed in $(VENV) are kept where pyproject.toml allows them.
lock:
	$(PYTHON) -m venv .cache/lock-venv
	.cache/lock-venv/bin/pip install --quiet uv
	if [ -x $(BIN)/pip ]; then $(BIN)/pip freeze --exclude-editable > .cache/installed.txt; \
	else : > .cache/installed.txt; fi
	.cache/lock-venv/bin/uv pip compile pyproject.toml requirements/build.in \
	    --extra dev --extra jax --generate-hashes --python-version 3.11 \
	    --python-platform x86_64-manylinux_2_28 --index-url https://pypi.org/simple \
	    --constraint .cache/installed.txt --no-header -o $(LOCK)

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache
