# The two commands of the README: `make report` (main job) and `make test` (tests).
# Each creates .venv and installs the pinned packages once; a stamp keyed on pyproject.toml
# means a second run reinstalls nothing, and the MNIST cache means it refetches nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: report test bench baseline data clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	rm -f $(VENV)/.installed-*
	touch $@

report: $(STAMP)
	$(BIN)/wganbench compare

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/wganbench data
	$(BIN)/python -m pytest tests -q
	WGANBENCH_BENCH_SCALE=quick $(BIN)/python -m pytest bench -q --benchmark-disable

bench: $(STAMP)
	$(BIN)/python -m pytest bench --benchmark-only --benchmark-json results/bench.json

# The committed quality baseline (results/baseline/quality.json) that `wganbench gate` and the bench
# `quality` group compare against: fixed seed, op-deterministic, the main job's quarter-width models at
# batch 64, on a budget the quality group trains in about 1.5 minutes on a 2-core CPU (the
# whole default bench run keeps within 10); WGANBENCH_QUALITY_STEPS_SCALE=4 trains a larger one.
BASELINE_RUNS := results/runs/baseline
BASELINE_FLAGS := --seed 0 --width 16 --batch-size 64 --force --quiet
baseline: $(STAMP)
	$(BIN)/wganbench train gan --steps 600 --checkpoint-every 600 --out-dir $(BASELINE_RUNS)/gan $(BASELINE_FLAGS)
	$(BIN)/wganbench gate $(BASELINE_RUNS)/gan --update-baseline
	$(BIN)/wganbench train wgan-gp --steps 150 --checkpoint-every 150 --out-dir $(BASELINE_RUNS)/wgan-gp $(BASELINE_FLAGS)
	$(BIN)/wganbench gate $(BASELINE_RUNS)/wgan-gp --update-baseline

data: $(STAMP)
	$(BIN)/wganbench data

clean-venv:
	rm -rf $(VENV)
