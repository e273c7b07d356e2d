# make demo  — set up everything (system packages, .venv) and run the demo year with statements
# make test  — the same set-up, then the whole test suite
# make bench — province-scale timing (see README "Figures")
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_ARCHIVE := demo-archive

.PHONY: setup demo test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup-system.sh
	bash scripts/setup-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: setup
	rm -rf $(DEMO_ARCHIVE)
	@for q in 1 2 3; do \
	  run=$$($(BIN)/p4p run inputs/demo/2026Q$$q --archive $(DEMO_ARCHIVE) | tail -n 1) || exit 1; \
	  $(BIN)/p4p approve "$$run" --by 演示财务中心 || exit 1; \
	done
	$(BIN)/p4p run inputs/demo/2026Q4 --archive $(DEMO_ARCHIVE)
	$(BIN)/p4p history --archive $(DEMO_ARCHIVE)

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) $(DEMO_ARCHIVE) bench-data *.egg-info
