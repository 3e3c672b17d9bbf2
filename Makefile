# The two commands of the README: `make report` (main job) and `make test` (tests).
# Each creates .venv and installs the suite with the CPU build of TensorFlow and the dev tools, at the
# versions of constraints.txt (the lock: exactly what CI tested), once: a stamp keyed on pyproject.toml
# and the lock means a second run reinstalls nothing, and the MNIST cache means it refetches nothing.
# `make lock` regenerates the lock on purpose (keeping its pins where pyproject.toml still allows them;
# `make lock UPGRADE=--upgrade` moves every pin to the newest version the ranges allow).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LOCK   := constraints.txt
EXTRAS := cpu,dev
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | sha256sum | cut -c1-12)
UPGRADE ?=

.PHONY: report test bench baseline data lock clean-venv

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(LOCK) -e '.[$(EXTRAS)]'
	rm -f $(VENV)/.installed-*
	touch $@

lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra cpu --extra dev --python-version 3.11 --quiet $(UPGRADE) \
	  --custom-compile-command "make lock" -o $(LOCK)

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
# `quality` group compare against. Each recipe SETTING:STEPS:WIDTH:BATCH:EMA[:SEEDS:CANDIDATES] is trained with every
# seed of BASELINE_SEEDS (or seeds 0 to SEEDS-1) (op-deterministic) and scored on BASELINE_N samples with evaluation
# seed 0; EMA is the decay of the generator's weight average that the entry scores (generator_ema.keras), or - for the
# raw generator; CANDIDATES (default 1) is how many fresh seeds a candidate of the entry must bring, their mean gated.
# The gate's limits come from the spread over those seeds (docs/DESIGN.md §7): 8 seeds give tolerance limits that
# hold for the recorded baseline (results/baseline/README.md). One run trains in 2-4 minutes on the 2-core Xeon, about
# twice that on the older AMD EPYC, where gan and wgan-gp (two targets side by side, BASELINE_THREADS=1) took 51
# minutes and wgan's 8 seeds 35 more.
# `gan` is scored by its EMA: its raw weights swing between checkpoints (the notebook's simultaneous update) and its
# entry would catch no regression. `wgan` draws no digits in 4 minutes: its entry catches gross breakage only (what it
# catches is measured in results/baseline/README.md). `wgan-seed` neither: its seeds spread so widely (FID 274-548)
# that one seed's limits pass uniform noise, so its entry holds 28 seeds (about 50 minutes here) and gates the mean of
# 4 fresh seeds (measured there).
# The runs stay in results/runs/baseline/SETTING/sSEED; refreshing retrains them all, on purpose.
BASELINE_RUNS := results/runs/baseline
BASELINE_RECIPES := gan:4000:16:64:0.999 wgan-gp:1000:16:64:- wgan:1600:16:64:- wgan-seed:6000:16:64:0.999:28:4
BASELINE_SEEDS := 0 1 2 3 4 5 6 7
BASELINE_N := 10000
# BASELINE_THREADS=1 trains with one TensorFlow thread, so two targets with disjoint recipes can share 2 cores
# (the thread count is a speed knob, not part of the recipe: the gate compares draws, not bits).
BASELINE_THREADS ?=
baseline: $(STAMP)
	@set -e; for recipe in $(BASELINE_RECIPES); do \
	  set -- $$(echo "$$recipe" | tr : ' '); setting=$$1; steps=$$2; width=$$3; batch=$$4; ema=$$5; \
	  seeds="$(BASELINE_SEEDS)"; [ -z "$${6:-}" ] || seeds=$$(seq 0 $$(($$6 - 1))); candidates=$${7:-1}; \
	  if [ "$$ema" = - ]; then train_ema=; generator=raw; else train_ema="--ema-decay $$ema"; generator=ema; fi; \
	  rm -rf $(BASELINE_RUNS)/$$setting; \
	  for seed in $$seeds; do \
	    echo "baseline: $$setting seed $$seed ($$steps steps, width $$width, batch $$batch, generator $$generator)"; \
	    $(BIN)/wganbench train $$setting --steps $$steps --checkpoint-every $$steps --seed $$seed \
	      --width $$width --batch-size $$batch $$train_ema --out-dir $(BASELINE_RUNS)/$$setting/s$$seed --quiet \
	      $(if $(BASELINE_THREADS),--threads $(BASELINE_THREADS)); \
	  done; \
	  $(BIN)/wganbench gate $(BASELINE_RUNS)/$$setting --update-baseline --n $(BASELINE_N) --seed 0 \
	    --generator $$generator --candidates $$candidates; \
	done

data: $(STAMP)
	$(BIN)/wganbench data

clean-venv:
	rm -rf $(VENV)
