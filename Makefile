# Two commands do everything: `make demo` (install + the data and training DAGs on generated data) and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DS ?= $(shell date -u +%F)
RECORDS ?= 3000
# the demo's sweep: a few short QLoRA trials on CPU (the DAG's defaults are in settings.training)
TRAIN_CONF ?= "max_trials": 3, "trial_steps": 8, "max_steps": 16

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

$(AIRFLOW_HOME)/airflow.db: $(BIN)/.installed
	mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (tail -20 $(AIRFLOW_HOME)/db-migrate.log; exit 1)

demo: $(AIRFLOW_HOME)/airflow.db
	$(BIN)/python -m llmops_demo --ds $(DS) --records $(RECORDS)
	$(BIN)/airflow dags test llmops_data $(DS) -c '{"ds": "$(DS)"}'
	$(BIN)/airflow dags test llmops_train $(DS) -c '{"ds": "$(DS)", $(TRAIN_CONF)}'
	$(BIN)/python -m llmops.summary --ds $(DS)

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
