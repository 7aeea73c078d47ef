"""`python -m engine.cli`: the same as `switchboard`."""

import sys

from engine.cli import main

sys.exit(main())
