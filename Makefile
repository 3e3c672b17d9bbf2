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
# `quality` group compare against. Each recipe SETTING:STEPS:WIDTH:BATCH is trained with every seed of
# BASELINE_SEEDS (op-deterministic) and scored on BASELINE_N samples with evaluation seed 0; the gate's
# thresholds come from the spread over those seeds (docs/DESIGN.md §7). One run trains in under 3
# minutes on a 2-core CPU (gan 4000 steps 106 s, wgan-gp 1000 iterations 119 s); the whole target
# takes about 25. wgan-gp's samples are digits (FID 172 ± 9, a quarter of uniform noise's 704); gan's
# are on only some seeds (FID 248 ± 62), so its limits are wide (results/baseline/README.md). The runs stay in
# results/runs/baseline/SETTING/sSEED; refreshing retrains them all, on purpose.
BASELINE_RUNS := results/runs/baseline
BASELINE_RECIPES := gan:4000:16:64 wgan-gp:1000:16:64
BASELINE_SEEDS := 0 1 2 3 4
BASELINE_N := 10000
baseline: $(STAMP)
	@set -e; for recipe in $(BASELINE_RECIPES); do \
	  set -- $$(echo "$$recipe" | tr : ' '); setting=$$1; steps=$$2; width=$$3; batch=$$4; \
	  rm -rf $(BASELINE_RUNS)/$$setting; \
	  for seed in $(BASELINE_SEEDS); do \
	    echo "baseline: $$setting seed $$seed ($$steps steps, width $$width, batch $$batch)"; \
	    $(BIN)/wganbench train $$setting --steps $$steps --checkpoint-every $$steps --seed $$seed \
	      --width $$width --batch-size $$batch --out-dir $(BASELINE_RUNS)/$$setting/s$$seed --quiet; \
	  done; \
	  $(BIN)/wganbench gate $(BASELINE_RUNS)/$$setting --update-baseline --n $(BASELINE_N) --seed 0; \
	done

data: $(STAMP)
	$(BIN)/wganbench data

clean-venv:
	rm -rf $(VENV)
