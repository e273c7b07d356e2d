# make demo      — set up everything (Debian packages, fonts, .venv from the lock file), then the demo year
# make test      — the same set-up, then the whole test suite (what CI runs)
# make quick     — the fast loop: everything but the tests marked slow or year (≈20 s)
# make lint      — ruff check + ruff format --check;  make typecheck — mypy
# make bench     — province-scale figures (see README "Figures")
# make lock      — re-resolve requirements.lock / requirements-dev.lock (with hashes) from pyproject.toml
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_ARCHIVE := demo-archive

.PHONY: setup demo test quick lint typecheck bench lock clean

# p4p's own bytecode, compiled ahead: this machine sets PYTHONDONTWRITEBYTECODE, so without it every
# p4p process (each run, each batch worker) compiles its ~110 modules again (≈0.2 s CPU each).
# compileall skips what is up to date; a stale .pyc is never used (Python checks the source's mtime).
setup: $(STAMP)
	$(BIN)/python -m compileall -q p4p

$(STAMP): pyproject.toml requirements-dev.lock scripts/setup-system.sh
	bash scripts/setup-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup
	bash scripts/demo.sh $(BIN)/p4p $(DEMO_ARCHIVE)

test: setup
	$(BIN)/python -m pytest -q -n 2

quick: setup
	$(BIN)/python -m pytest -q -n 2 -m "not slow and not year"

lint: setup
	$(BIN)/ruff check p4p tests scripts
	$(BIN)/ruff format --check p4p tests scripts

typecheck: setup
	$(BIN)/mypy

bench: setup
	$(BIN)/python scripts/bench.py

lock: setup
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras -o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra dev -o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) $(DEMO_ARCHIVE) bench-data build *.egg-info
