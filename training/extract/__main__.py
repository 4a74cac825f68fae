"""``python -m training.extract ...`` = ``gazehead-rt extract ...``."""

import sys

from .cli import main

raise SystemExit(main(sys.argv[1:]))
