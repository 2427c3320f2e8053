# Two commands do all set-up on a fresh machine:
#   make demo   create .venv, install babelmill, generate sample input, run the main job end to end
#   make test   create .venv if needed, run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip wheel
	# torch is pinned to the CPU build in pyproject.toml (a bare `torch` would pull GBs of CUDA)
	# eflomal (GPL-3.0) is an optional extra; the demo and the tests use it
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,eflomal]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/babelmill demo --workdir babelmill-demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/io_bench.py

clean:
	rm -rf babelmill-demo .pytest_cache
