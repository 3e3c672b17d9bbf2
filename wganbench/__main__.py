"""`python -m wganbench`: the wganbench command."""

import sys

from wganbench import main

sys.exit(main())
