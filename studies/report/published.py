"""Published Stacked MNIST mode counts, shown beside a Stacked MNIST study's own (docs/DESIGN.md §5).

They come from other models, budgets and classifiers, so they place the suite's numbers, they do not
rank them. Modes of 1,000 covered and KL(generated mode histogram ‖ uniform), as PacGAN (Lin et al.
2018) tabulates them: Table 2 under the VEEGAN protocol, Table 3 under the Unrolled GAN protocol.
"""

from __future__ import annotations

import pandas as pd

PUBLISHED_STACKED = pd.DataFrame([
    ("DCGAN", "VEEGAN (PacGAN Table 2)", 99, 3.40),
    ("ALI", "VEEGAN (PacGAN Table 2)", 16, 5.40),
    ("Unrolled GAN", "VEEGAN (PacGAN Table 2)", 48.7, 4.32),
    ("VEEGAN", "VEEGAN (PacGAN Table 2)", 150, 2.95),
    ("PacDCGAN2", "VEEGAN (PacGAN Table 2)", 1000, 0.06),
    ("DCGAN, D = ¼ G", "Unrolled GAN (PacGAN Table 3)", 30.6, 5.99),
    ("DCGAN, D = ½ G", "Unrolled GAN (PacGAN Table 3)", 628, 2.58),
], columns=["model", "protocol", "modes of 1000", "KL to uniform"])
