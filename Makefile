# Two commands for a fresh machine with only Python 3.11+:
#   make demo   creates .venv, installs asr, runs validate/plan/apply/plan against the embedded emulator
#   make test   creates .venv, installs asr with its test extra, runs the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the suite mostly waits on the emulator: 3 workers fit 2 cores
TEST_WORKERS ?= 3

.PHONY: demo test install clean bench schema

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/asr demo examples/quickstart.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) $(PYTEST_ARGS)

schema: $(STAMP)
	$(BIN)/python -m reconciler.manifest.schema > schemas/asr-manifest.schema.json

bench: $(STAMP)
	$(BIN)/python bench/plan_scale.py
	$(BIN)/python bench/apply_scale.py

clean:
	rm -rf $(VENV) build *.egg-info
