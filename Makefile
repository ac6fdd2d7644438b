# Burrow: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?= -n auto

.PHONY: install run test lint typecheck imports pytest bench install-desktop uninstall-desktop clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Burrow needs Python 3.11 or newer"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python main.py $(ARGS)

# A desktop entry and icon for this user (freedesktop conventions), starting this checkout's
# `burrow` command. `make uninstall-desktop` removes both.
DATA_HOME := $(or $(XDG_DATA_HOME),$(HOME)/.local/share)
DESKTOP_FILE := $(DATA_HOME)/applications/burrow.desktop
ICON_FILE := $(DATA_HOME)/icons/hicolor/scalable/apps/burrow.svg

install-desktop: $(STAMP)
	mkdir -p "$(dir $(DESKTOP_FILE))" "$(dir $(ICON_FILE))"
	install -m 644 assets/icons/burrow.svg "$(ICON_FILE)"
	sed 's|@BURROW@|$(abspath $(BIN))/burrow|' assets/burrow.desktop.in > "$(DESKTOP_FILE)"
	-update-desktop-database -q "$(dir $(DESKTOP_FILE))" 2>/dev/null
	@echo "Installed $(DESKTOP_FILE)"

uninstall-desktop:
	rm -f "$(DESKTOP_FILE)" "$(ICON_FILE)"
	-update-desktop-database -q "$(dir $(DESKTOP_FILE))" 2>/dev/null

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every package that exists; strictness per package is set in pyproject.toml.
PACKAGES = $(wildcard mls nostr marmot storage app cli ui push_server)

typecheck: $(STAMP)
	$(BIN)/mypy $(PACKAGES) main.py

imports: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -bb -m pytest $(PYTEST_ARGS)

test: lint typecheck imports pytest

bench: $(STAMP)
	@for b in bench/*_bench.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .cache .mypy_cache .pytest_cache .ruff_cache .hypothesis
