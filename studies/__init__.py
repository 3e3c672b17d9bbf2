"""wganbench's study layer: comparisons of settings × seeds, their reports, the quality gate and the
command line. It sits on top of the training layer (`wgan`) and the evaluators (docs/DESIGN.md §1)."""
