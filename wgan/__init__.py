"""wganbench's training side: data, models, losses, Lipschitz constraints, settings, trainer."""
