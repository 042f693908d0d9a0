# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean fuzz bench-batch docs

$(STAMP): pyproject.toml
	@echo "First run: installing freelance-ledger and its dependencies into $(VENV) (once; one to three minutes)..."
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	@PYTHONWARNINGS=ignore $(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "^WARNING: Location" || true
	@$(BIN)/python -c "import ledger, importers, rules" || { echo "install failed: see the messages above"; exit 1; }
	@touch $(STAMP)
	@echo "Installed."

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/ledger demo

# Both cores (pytest-xdist); PYTEST_ARGS to narrow or add flags. Bytecode is cached even where
# the environment says PYTHONDONTWRITEBYTECODE: every worker, fork server, Dask worker and
# `ledger` subprocess would otherwise compile the project (and pytest rewrite the tests) anew.
test: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n 2 --dist worksteal $(PYTEST_ARGS)

# Mutated golden exports through the importers and the CLI, in rounds of fresh random
# examples until FUZZ_SECONDS (default 600) have passed; the first failure stops it.
# Hostile shapes run the CLI with a hard timeout per example (FUZZ_TIMEOUT seconds): a hang
# fails the round.
FUZZ_SECONDS ?= 600
FUZZ_TIMEOUT ?= 15
fuzz: $(STAMP)
	@end=$$(( $$(date +%s) + $(FUZZ_SECONDS) )); round=0; \
	while [ $$(date +%s) -lt $$end ]; do \
		round=$$((round + 1)); echo "fuzz round $$round"; \
		FUZZ_SEED=$$round FUZZ_EXAMPLES=400 FUZZ_TIMEOUT=$(FUZZ_TIMEOUT) $(BIN)/python -m pytest -q -p no:cacheprovider \
			-W ignore::hypothesis.errors.HypothesisWarning tests/test_fuzz.py || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check .

# Rewrite the output shown in README.md's and docs/*.md's ```console examples from what each
# command prints on the demo ledger (tests/docs_examples.py); read the diff before committing.
docs: $(STAMP)
	$(BIN)/python -m tests.docs_examples --update


bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/reconcile.py

# `ledger batch` on synthetic workers (default 10,000 workers / 10M rows); smaller:
# make bench-batch BATCH_ARGS="--workers 1000 --rows 1000000"
bench-batch: $(STAMP)
	$(BIN)/python bench/batch.py $(BATCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
