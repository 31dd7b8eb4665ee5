# The README's two commands: `make run` and `make test`.
#
# Both install from the lock files in requirements/ (exact versions, every file's hash
# checked by pip), then the project itself with --no-deps. pyproject.toml keeps the
# version ranges for people who install the package; `make lock` turns them into the
# lock files (see the README's "Dependencies").
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_LOCK := requirements/runtime.txt
DEV_LOCK     := requirements/dev.txt
# A stamp per lock file's content (and pyproject.toml's, for the project's own entry
# points): a changed lock re-installs, an unchanged one costs nothing.
checksum = $(shell cat $(1) | cksum | cut -d' ' -f1)
RUN_STAMP  := $(VENV)/.installed-run-$(call checksum,$(RUNTIME_LOCK) pyproject.toml)
DEV_STAMP  := $(VENV)/.installed-dev-$(call checksum,$(DEV_LOCK) pyproject.toml)
PIP        := $(BIN)/python -m pip --disable-pip-version-check
LOCK_FLAGS := --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links

.PHONY: run test lint typecheck unit bench lock lock-upgrade clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): $(RUNTIME_LOCK) pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r $(RUNTIME_LOCK)
	$(PIP) install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-run-*
	touch $@

$(DEV_STAMP): $(DEV_LOCK) pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r $(DEV_LOCK)
	$(PIP) install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-dev-*
	touch $@

## make run: install, migrate the local database, start the bot (console without Slack tokens)
run: $(RUN_STAMP)
	$(BIN)/readalong start

## make test: lint, type check and the whole test suite (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)
test: $(DEV_STAMP)
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/mypy
	$(BIN)/readalong db check-models
	$(BIN)/python -m pytest -q -n auto --dist worksteal $(PYTEST_ARGS)

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

## make lock: after changing dependencies in pyproject.toml; keeps every pin that still fits
## make lock-upgrade: the newest versions the ranges allow (monthly, or for a security fix)
lock: $(DEV_STAMP)
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile $(LOCK_FLAGS) $(UPGRADE) \
		--extra postgres -o $(RUNTIME_LOCK) pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile $(LOCK_FLAGS) $(UPGRADE) --allow-unsafe \
		--extra dev -c $(RUNTIME_LOCK) -o $(DEV_LOCK) pyproject.toml

lock-upgrade:
	$(MAKE) lock UPGRADE=--upgrade

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
