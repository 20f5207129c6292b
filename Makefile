# Quick start: `make run` (set up, then the main job) and `make test` (set up, then the suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: setup setup-test system-deps run test clean

# `make run` needs bombe alone; `make test` adds the test tools and llama-cpp-python, whose
# wheel is compiled once into ~/.cache/bombe/wheels (scripts/llama-wheel.sh).
setup: system-deps $(STAMP)

setup-test: system-deps $(TEST_STAMP)

system-deps:
	@bash scripts/install-system-deps.sh

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e .
	@touch $(STAMP)

$(TEST_STAMP): pyproject.toml scripts/llama-wheel.sh | $(VENV)/bin/python
	$(BIN)/pip install -q --find-links "$$(bash scripts/llama-wheel.sh $(BIN)/python)" -e '.[test]'
	@touch $(STAMP) $(TEST_STAMP)

# The HumanEval reference check, then model-free synthesis of the demo suite bombe ships; with
# BOMBE_DATA set, also LambdaBeam's 100 handwritten tasks (10 s each at most).
run: setup
	$(BIN)/bombe evaluate --benchmark humaneval --samples reference
	$(BIN)/bombe synth --suite demo --show 5
	@if [ -n "$$BOMBE_DATA" ]; then $(BIN)/bombe synth --suite lambdabeam-handwritten --show 5; fi

test: setup-test
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build src/*.egg-info
