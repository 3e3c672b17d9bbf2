"""`python -m studies.cli`: the wganbench command."""

import sys

from studies.cli.app import main

sys.exit(main())
