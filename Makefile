# The two commands: `make run` (set up and launch the app), `make test` (set up and run every check).
# Both bootstrap a local .venv on first use and refresh it when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: run test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; \
	  sys.exit(0 if (3, 11) <= v < (3, 14) else "desktop_chat needs Python 3.11-3.13; found %d.%d (set PYTHON=...)" % v)'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m desktop_chat $(ARGS)

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/search.py --messages 100000
	$(BIN)/python bench/conversations.py --conversations 10000
	$(BIN)/python bench/transcript.py --messages 10000
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache

# `make package`: the Linux bundle (PyInstaller onedir in dist/desktop-chat/, smoke-tested) and the .deb
# (dist/desktop-chat_<version>_amd64.deb). PyInstaller is installed into .venv for this target only.
.PHONY: package
package: $(STAMP)
	$(BIN)/python -m pip install --quiet "pyinstaller>=6.10"
	$(BIN)/python packaging/build.py
