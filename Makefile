# Two commands do everything: `make demo` (install, start the live Airflow stack, run the lifecycle on generated
# data through its scheduler) and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DS ?= $(shell date -u +%F)
RECORDS ?= 3000

# Embedded Airflow: SQLite metadata DB and logs under .airflow/, DAGs and plugins from this repo.
export AIRFLOW_HOME := $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?= sqlite:///$(CURDIR)/.airflow/airflow.db
export PYSPARK_PYTHON := $(CURDIR)/$(BIN)/python
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS :=

.PHONY: install demo test lint bench clean up down
PORT ?= 8080

$(BIN)/.installed: requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	# the Spark provider's pyspark-client (4.2, no 4.3 exists) overwrites pyspark 4.3's Python files and
	# breaks every Python UDF: put pyspark's own files back last
	$(BIN)/pip install --quiet --disable-pip-version-check --force-reinstall --no-deps pyspark==4.3.0
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(BIN)/.installed

# The demo runs on the live stack (make up), so its runs, task logs and reports stay in the UI afterwards.
# Its sweep: a few short QLoRA trials on CPU (the DAGs' defaults are in settings.training).
demo: export LLMOPS__TRAINING__SWEEP__MAX_TRIALS ?= 3
demo: export LLMOPS__TRAINING__SWEEP__TRIAL_STEPS ?= 8
demo: export LLMOPS__TRAINING__MAX_STEPS ?= 16
# Its rollout: second-scale analysis windows, the load generator filling each (the settings' defaults are minutes).
demo: export LLMOPS__DEPLOY__STEPS ?= [25,50,100]
demo: export LLMOPS__DEPLOY__WINDOW_S ?= 5
demo: export LLMOPS__DEPLOY__LOAD_RPS ?= 10
demo: export LLMOPS__DEPLOY__DRAIN_S ?= 1
demo: export LLMOPS__DEPLOY__ANALYSIS__MIN_REQUESTS ?= 10
demo: export LLMOPS__DEPLOY__ANALYSIS__QUALITY_PROMPTS_PER_STEP ?= 20
demo: $(BIN)/.installed
	$(BIN)/python -m llmops.demo --ds $(DS) --records $(RECORDS) --port $(PORT)

# The live system: api-server, scheduler, dag-processor, triggerer on 127.0.0.1:$(PORT) with FAB roles
# (LLMOPS_PROFILE=integration: PostgreSQL metadata DB, Redis online store). UNPAUSE=1 unpauses the DAGs.
up: $(BIN)/.installed
	$(BIN)/python -m llmops.stack up --port $(PORT) $(if $(UNPAUSE),--unpause)

down:
	$(BIN)/python -m llmops.stack down

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .

bench: $(BIN)/.installed
	$(BIN)/python bench/bench_clean.py
	$(BIN)/python bench/bench_train.py
	$(BIN)/python bench/bench_eval_power.py

clean:
	rm -rf .airflow .lake .scratch
