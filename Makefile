# pbxdiag — every target sets itself up: a fresh machine needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench fuzz screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/pbxdiag demo

lint: $(STAMP)
	$(VENV)/bin/ruff check agent drivers simulators tests bench
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest -q

# The fuzz suite with a large budget (HYPOTHESIS_PROFILE=fuzz: 5,000 examples a test, fresh
# randomness, findings kept in .hypothesis/); `make test` runs it with the small "ci" one.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q tests/fuzz

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m bench

# The pre-visit pack (docs/images/) and the board (docs/board*.png) rendered from simulated
# sites in headless Chromium (Debian's chromium + chromium-driver, as .ci/run installs
# them). Not part of `make test`.
screenshots: $(STAMP)
	$(PY) -m tests.e2e.screenshots
	$(PY) -m bench.screenshots

clean:
	rm -rf $(VENV) demo-output .mypy_cache .ruff_cache .pytest_cache
