# make run    set up the virtual environment, migrate the database, serve http://127.0.0.1:5000
# make test   set up the virtual environment with the test tools and run the test suite
# make smoke  the migration workflow on Python 3.8 and 3.13, both stacks where they run
# make serve  the app under gunicorn (2 workers) on 127.0.0.1:8000
# make bench  the benchmarks (bench/), QUICK=1 for a short run
# make docs   the documentation site (docs/) into docs/_build/html, warnings as errors
# make lint   ruff with the rules in pyproject.toml
#
# STACK=classic (the default): Flask 1.1 + Flask-Script, requirements.txt, in .venv
# STACK=modern: Flask 3.1 + Flask-Script-NG, requirements-modern.txt, in .venv-modern

PYTHON ?= python3
STACK ?= classic

ifeq ($(STACK),classic)
VENV ?= .venv
REQUIREMENTS := requirements.txt
# What requirements.txt includes: the migration safety net's own pins.
INCLUDED := app/migrating/requirements.txt
else ifeq ($(STACK),modern)
VENV ?= .venv-modern
REQUIREMENTS := requirements-modern.txt
INCLUDED := app/migrating/requirements-modern.txt
else
$(error STACK must be classic or modern, not "$(STACK)")
endif

BIN := $(VENV)/bin

.PHONY: run serve test lint smoke bench docs install install-dev install-bench clean

run: install
	$(BIN)/python manage.py db upgrade
	$(BIN)/python manage.py runserver

# The app under gunicorn, as in production: migrate, then serve with 2 workers.
SERVE_BIND ?= 127.0.0.1:8000
serve: install
	$(BIN)/python manage.py db upgrade
	$(BIN)/gunicorn --workers 2 --bind $(SERVE_BIND) --access-logfile - "app:create_app()"

test: install-dev
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .

# The benchmarks (bench/run.py): results in bench/results/. QUICK=1 for a short run.
bench: install-bench
	QUICK=$(QUICK) $(BIN)/python -m bench

install-bench: $(VENV)/.installed-bench

# The documentation site (Sphinx, MyST Markdown) in its own .venv-docs, made
# with the default python3 whatever the stack: Sphinx needs 3.11 or newer.
# -W makes every warning an error; -n and MyST's cross-reference warnings
# catch a link to a page or a heading that does not exist.
DOCS_VENV := .venv-docs
docs: $(DOCS_VENV)/.installed
	$(DOCS_VENV)/bin/sphinx-build -W --keep-going -n -q -b html docs docs/_build/html

$(DOCS_VENV)/.installed: docs/requirements.txt
	python3 -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install --quiet -r docs/requirements.txt
	touch $@

# The migration workflow on the oldest and newest supported Python, on each
# stack that supports it (tests/smoke.py); SMOKE_PYTHONS="3.9 3.12" for others.
smoke:
	$(PYTHON) tests/smoke.py

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements file changed since the last install.
$(VENV)/.installed: $(REQUIREMENTS) $(INCLUDED) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r $(REQUIREMENTS)
	touch $@

$(VENV)/.installed-dev: $(REQUIREMENTS) $(INCLUDED) requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r $(REQUIREMENTS) -r requirements-dev.txt
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: $(REQUIREMENTS) $(INCLUDED) bench/requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r $(REQUIREMENTS) -r bench/requirements.txt
	touch $@ $(VENV)/.installed

clean:
	rm -rf .venv .venv-modern .venv-smoke .venv-docs .pytest_cache docs/_build
