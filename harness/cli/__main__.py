"""`python -m harness.cli ...` (what `harness` runs)."""

import sys

from harness.cli import main

sys.exit(main())
