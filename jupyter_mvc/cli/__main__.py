"""`python -m jupyter_mvc.cli` runs `mvc`."""

import sys

from . import main

sys.exit(main())
