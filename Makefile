# narrative-tracker — the two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export DAGSTER_HOME := $(CURDIR)/.dagster_home
# one "planned" event per asset for a run over a range of days, not one per day (docs/dagster.md, "Fast backfills")
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS := 1
DB ?= data/narratives.duckdb

.PHONY: install demo demo-lake postgres test bench bench-lake detection stance-model encoder-model heads-model pair-quality dev clean help

help:
	@echo "make demo   - set up .venv and run the whole pipeline on the bundled sample corpus"
	@echo "make test   - set up .venv and run the test suite (installs Debian's postgresql when missing)"
	@echo "make demo-lake - the sample corpus on DuckLake with a throwaway PostgreSQL catalog, two workers"
	@echo "make bench  - run benchmarks/ (about 8 min); writes benchmarks/results.json and results.md"
	@echo "make detection    - stance (FNC-1 CV by claim) + labelled-set scores; writes benchmarks/results/detection.json"
	@echo "make stance-model - retrain the shipped pair model (narratives/pair_artifact/) from ../shared + the tune part (~1 h)"
	@echo "make encoder-model - retrain the domain encoder (embeddings/encoder_artifact/, --model minilm-narratives) (~15 min)"
	@echo "make heads-model  - retrain the shipped narrative heads (narratives/heads_artifact/) from the codebook + the tune part"
	@echo "make dev    - start the Dagster UI (http://127.0.0.1:3000) on workspace.yaml"

# torch first and pinned: here it resolves to the local CPU wheel; unpinned it would pull a CUDA build.
$(BIN)/narratives: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/narratives

demo: install
	$(BIN)/narratives run --input data/sample --db $(DB)
	$(BIN)/narratives report --db $(DB) --out data/report.html

# The DuckLake tests and demo-lake start a throwaway PostgreSQL cluster from Debian's package (as root, e.g. in CI).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } || \
	  { echo "PostgreSQL is missing: run 'sudo apt-get install -y postgresql'"; exit 1; }

test: install postgres
	$(BIN)/python -m pytest -n 2 --dist loadfile

demo-lake: install postgres
	$(BIN)/python scripts/demo_lake.py

bench: install
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

FNC ?= ../shared/benchmarks/fnc1-stance
SEMEVAL ?= ../shared/benchmarks/semeval2025-task10-en
CORPUS ?= ../shared/corpus/euvsdisinfo-2015-2021/posts.csv

detection: install
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/detection.py --fnc $(FNC)

# About an hour on 2 cores (bf16 on AMX); a checkpoint every 50 steps: `make stance-model STANCE_ARGS=--resume` continues.
stance-model: install
	$(BIN)/narratives train-stance --pairs $(FNC) --semeval $(SEMEVAL) --version pair-$$(date -u +%Y%m%d) $(STANCE_ARGS)

# The domain encoder (--model minilm-narratives): about 15 min on 2 cores; `make encoder-model ENCODER_ARGS=--resume` continues.
encoder-model: install
	$(BIN)/narratives train-encoder --corpus $(CORPUS) --semeval $(SEMEVAL) --version enc-$$(date -u +%Y%m%d) $(ENCODER_ARGS)

pair-quality: install
	$(BIN)/python benchmarks/pair_quality.py --fnc $(FNC)

heads-model: install
	OMP_NUM_THREADS=1 $(BIN)/narratives train --version heads-$$(date -u +%Y%m%d)

dev: install
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# Every database the pipeline writes: the published file, its working copy (<name>.work.duckdb), their WAL files,
# a half-published temporary copy, the demo lake, the report, and the run history of the Dagster instance
# (it describes these databases; dagster.yaml, the instance settings, stays).
WORK_DB := $(basename $(DB)).work$(suffix $(DB))
clean:
	rm -rf $(VENV) *.egg-info build $(DB) $(DB).wal $(WORK_DB) $(WORK_DB).wal $(dir $(DB)).$(notdir $(DB)).publishing \
		data/lake data/report.html data/*.dagster
	find .dagster_home -mindepth 1 -maxdepth 1 ! -name dagster.yaml -exec rm -rf {} +
