# What a user needs: `make demo` and `make test`; what a contributor runs before a commit: `make check`.
# Every target creates .venv when it is missing. `make -k check` reports every failing step, not the first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_ARGS ?=

# The public API for numpydoc: every module of the package; pyproject's [tool.numpydoc_validation]
# leaves out private names and the modules that export nothing (exclude, exclude_files).
NUMPYDOC_FILES = $(shell find sksurv_ecg -name '*.py' | sort)
# Fully typed: the torch layer, the losses, the sampler and the I/O (a module before the io/ split,
# a package after it; whichever exists is checked). The estimators rely on numpydoc types.
TYPED_PATHS = $(wildcard sksurv_ecg/nn sksurv_ecg/losses.py sksurv_ecg/sampling.py sksurv_ecg/io sksurv_ecg/io.py sksurv_ecg/conventions.py)

.PHONY: demo test test-all test-kernel check lint doclint typecheck docs clean-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: this is the CPU build on local disk; an unpinned torch pulls a CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev,text,dist]"
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: $(STAMP)
	$(PY) -m sksurv_ecg demo

test: $(STAMP)
	$(PY) -m pytest -m "not slow and not gpu" -p no:cacheprovider $(PYTEST_ARGS)

test-all: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The compiled BatchNorm + LeakyReLU kernel: built (30-90 s once per machine) and checked against the
# pure-torch version and the reference path. `make test` runs with SKSURV_ECG_FUSED=0 (tests/conftest.py).
test-kernel: $(STAMP)
	$(PY) -m pytest -m slow -p no:cacheprovider tests/test_fused.py $(PYTEST_ARGS)

check: lint doclint typecheck docs

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

doclint: $(STAMP)
	$(PY) -m numpydoc lint $(NUMPYDOC_FILES)

typecheck: $(STAMP)
	$(PY) -m mypy $(TYPED_PATHS)

docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

clean-venv:
	rm -rf $(VENV)
