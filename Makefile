# Two commands for a fresh machine with only Python 3.11+:
#   make demo   creates .venv, installs asr with its emulator, runs validate/plan/apply/plan against it
#   make test   creates .venv, installs asr with the emulator and test extras, runs `make lint`, then the
#               suite but the `slow` tests (soak and scale; `make test-slow` runs those, CI runs both)
# `make install`: the runtime and the emulator (the `emulator` extra), without the test tools.
# The distribution is `asr-iac` (the name `asr` on PyPI is another project); the command is `asr`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# the suite waits on the emulator and on processes a quarter of its time: 4 workers fill 2 cores
# (docs/performance.md: 3 workers 85 s, 4 workers 71 s on a clean clone)
TEST_WORKERS ?= 4

.PHONY: demo test test-slow lint install clean bench schema

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# setuptools >= 77 reads the SPDX `license` string (the wheel test builds without isolation).
# The distribution was called `asr` before: remove it, it would shadow asr-iac's files.
# setuptools' "Editable installation" notice (a UserWarning of the build backend) is silenced.
PIP_SETUP := $(BIN)/python -m pip install --quiet --upgrade pip 'setuptools>=77' wheel && \
	{ ! $(BIN)/python -m pip show --quiet asr >/dev/null 2>&1 || $(BIN)/python -m pip uninstall --quiet -y asr; }
PIP_EDITABLE := PYTHONWARNINGS=ignore::UserWarning $(BIN)/python -m pip install --quiet -e

$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP_SETUP)
	$(PIP_EDITABLE) '.[emulator]'
	touch $(STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(PIP_SETUP)
	$(PIP_EDITABLE) '.[emulator,test]'
	touch $(STAMP) $(TEST_STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/asr demo examples/quickstart.yaml

# Python processes of a run (workers, emulators, `asr` subprocesses) start from bytecode
# caches (__pycache__, git-ignored) even where PYTHONDONTWRITEBYTECODE is set: compiling
# asr's sources again costs about 0.2 s of CPU per process (docs/performance.md)
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS)

# lint runs beside the suite (the suite leaves a core idle a quarter of its time); its output is
# printed after the suite's. CI runs `make test`, so a lint or type error fails it.
test: $(TEST_STAMP)
	@echo "make lint (beside the suite; output below when it ends)"; echo '$(PYTEST) -m "not slow" $(PYTEST_ARGS)'
	@$(MAKE) --no-print-directory lint > $(VENV)/lint.log 2>&1 & lint=$$!; \
	$(PYTEST) -m "not slow" $(PYTEST_ARGS); suite=$$?; \
	wait $$lint; status=$$?; cat $(VENV)/lint.log; \
	if [ $$status -ne 0 ]; then echo "make test: lint failed (above)" >&2; exit $$status; fi; exit $$suite

# the soak and scale tests (marker `slow`)
test-slow: $(TEST_STAMP)
	$(PYTEST) -m slow $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check reconciler tests bench
	$(BIN)/mypy

schema: $(STAMP)
	$(BIN)/python -m reconciler.manifest.schema > schemas/asr-manifest.schema.json

bench: $(STAMP)
	$(BIN)/python bench/plan_scale.py
	$(BIN)/python bench/apply_scale.py

clean:
	rm -rf $(VENV) build *.egg-info
