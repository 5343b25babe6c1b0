# Sportello: `make run` starts the assistant, `make test` runs every test. Both set up what is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

APP_VENV := .venv
RASA_VENV := .venv-rasa
APP_PY := $(APP_VENV)/bin/python
RASA := $(RASA_VENV)/bin/rasa
PYTHON310 = $(shell scripts/find-python310)

.PHONY: help run test lint model setup knowledge-check rasa-files compare-pipelines score-devset locales clean

help:
	@echo "make run    start Rasa, the action server and the gateway (http://127.0.0.1:8080/)"
	@echo "make test   run every test (sets up both environments and the model first)"
	@echo "make knowledge-check   check knowledge/ and print the coverage table"
	@echo "make lint  ruff, mypy and the layer contracts (import-linter)"

# The app environment: our code on current libraries (pinned in requirements/app.txt), what `make run`
# needs and nothing more: a server that only runs the desk carries no test tools.
$(APP_VENV)/.installed: pyproject.toml requirements/app.txt
	@echo "== setting up the app environment ($(APP_VENV))"
	@test -x $(APP_PY) || $(PYTHON310) -m venv $(APP_VENV)
	$(APP_PY) -m pip install --quiet --upgrade pip
	$(APP_PY) -m pip install --quiet -c requirements/app.txt -e .
	@touch $@

# The dev extras (pytest, hypothesis, playwright, ruff, mypy, import-linter), added for `make test` and
# `make lint` only; again whenever the runtime environment is set up again.
$(APP_VENV)/.dev-installed: $(APP_VENV)/.installed
	@echo "== adding the dev tools to $(APP_VENV)"
	$(APP_PY) -m pip install --quiet -c requirements/app.txt -e '.[dev]'
	@touch $@

# The Rasa environment: rasa==3.6.21 and its old pins, kept apart from ours.
$(RASA_VENV)/.installed: requirements/rasa.txt
	@echo "== setting up the Rasa environment ($(RASA_VENV)); this takes a few minutes the first time"
	@test -x $(RASA_VENV)/bin/python || $(PYTHON310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(RASA_VENV)/bin/python -m pip install --quiet -r requirements/rasa.txt
	@touch $@

setup: $(APP_VENV)/.installed $(RASA_VENV)/.installed

# Trains only when the training data changed (fingerprint); reuses ~/.cache/sportello otherwise.
model: setup
	@$(APP_PY) scripts/ensure_model.py

run: model
	@$(APP_PY) -m bot run

test: model lint $(APP_VENV)/.dev-installed
	@scripts/ensure-chromium
	@$(APP_PY) -m pytest -ra $(PYTEST_ARGS)

lint: $(APP_VENV)/.dev-installed
	@$(APP_VENV)/bin/ruff check bot actions tests scripts rasa_components
	@$(APP_VENV)/bin/mypy
	@$(APP_VENV)/bin/lint-imports --no-cache

knowledge-check: $(APP_VENV)/.installed
	@$(APP_PY) -m bot knowledge check

rasa-files: $(APP_VENV)/.installed
	@$(APP_PY) -m bot rasa-files

# After changing interface strings in the code: refresh the templates and every catalog, then translate.
# Two domains: "messages" (the bot, twelve languages; everything but bot/web/dashboard/) and "dashboard"
# (the mediators' pages, it and en; only bot/web/dashboard/). Run it under `flock /tmp/locales.lock`.
DASHBOARD_SOURCES = $(shell find bot/web/dashboard -name '*.py' -o -name '*.html' -o -name '*.js' | sort)
locales: $(APP_VENV)/.installed
	$(APP_VENV)/bin/pybabel extract -F babel.cfg -k _ -k t --no-location --omit-header --sort-output \
		--ignore-dirs '.* _* dashboard' -o locales/messages.pot .
	$(APP_VENV)/bin/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching
	$(APP_VENV)/bin/pybabel extract -F babel.cfg -k _ -k N_ --no-location --omit-header --sort-output \
		-o locales/dashboard.pot $(DASHBOARD_SOURCES)
	for lang in it en; do \
		$(APP_VENV)/bin/pybabel update -i locales/dashboard.pot -d locales -D dashboard -l $$lang \
			--init-missing --no-fuzzy-matching || exit 1; \
	done

compare-pipelines: setup
	@$(APP_PY) scripts/compare_pipelines.py

score-devset: model
	@$(APP_PY) scripts/score_devset.py --sweep

clean:
	rm -rf models results var .pytest_cache
