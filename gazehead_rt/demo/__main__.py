"""``python -m gazehead_rt.demo`` = ``gazehead-rt demo``."""

import sys

from .cli import main

sys.exit(main())
