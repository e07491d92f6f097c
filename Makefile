# Two commands on a fresh machine: `make demo` (set up + serve demo) and `make test`.
# Python 3.11–3.13 (PYTHON=python3.12 to choose); a .venv made with another Python is rebuilt.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
VERSION_OF = $(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])'
PYVER := $(shell $(call VERSION_OF,$(PYTHON)) 2>/dev/null)
STAMP := $(VENV)/.installed-$(PYVER)

.PHONY: demo test install venv messages lock lint bench
SIZE ?= small

$(STAMP): pyproject.toml requirements.lock
	@case "$(PYVER)" in 3.11|3.12|3.13) ;; *) echo "Python 3.11–3.13 needed; $(PYTHON) is '$(PYVER)' (make PYTHON=python3.12 …)"; exit 1 ;; esac
	@if [ -x $(PY) ] && [ "$$($(call VERSION_OF,$(PY)))" != "$(PYVER)" ]; then \
	  echo "$(VENV) was made with Python $$($(call VERSION_OF,$(PY))): rebuilding it with $(PYTHON) ($(PYVER))"; \
	  rm -rf $(VENV); fi
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	rm -f $(VENV)/.installed*
	touch $(STAMP)

venv: $(STAMP)

install: $(STAMP) messages

# Pure Python (Babel): no GNU gettext needed.
messages: $(STAMP)
	$(PY) manage.py compile_catalogues --verbosity 0

demo: install
	$(PY) manage.py demo_database
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# Style and migrations, as CI checks them (.ci/run) and the pre-commit hooks do (.pre-commit-config.yaml).
lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(PY) manage.py makemigrations --check --dry-run

# Regenerate the pinned constraints after changing pyproject.toml.
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet --upgrade pip
	.lockvenv/bin/pip install --quiet '.[dev,bench]'
	.lockvenv/bin/pip freeze --exclude guarantee-portal > requirements.lock
	rm -rf .lockvenv build *.egg-info

# Every benchmark under bench/ on PostgreSQL (DATABASE_URL; each runs in a fresh database beside it),
# then one table: benchmark, measured ratio, target, pass/fail. SIZE=national for the full sizes.
bench: install
	$(PY) bench/run.py --size $(SIZE)
