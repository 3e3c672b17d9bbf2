"""The one dict of defaults behind both `evaluators.evaluate` and `wganbench evaluate` (DESIGN.md §5)."""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    "n": 10_000,              # samples scored (generated N vs the 10,000 test images)
    "seed": 0,                # latent draws and KID subsets
    "batch_size": 1_000,      # generator and classifier forward passes
    "splits": 10,             # inception score splits
    "min_share": 0.01,        # a class counts as a covered mode at this share of the samples
    "confident_prob": 0.9,    # a sample is "confident" when its top class has at least this probability
    "kid_subsets": 100,
    "kid_subset_size": 1_000,
    "prdc_k": 5,
    "prdc_chunk": 1_024,      # rows per block of pairwise distances (≈ 40 MB of float32 at 10k columns)
    "reference": "test",      # the real split scored against
}
