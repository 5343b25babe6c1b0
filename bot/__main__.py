"""``python -m bot <command>``: the command line lives in ``bot.ops.cli``."""

import sys

from bot.ops.cli import main

sys.exit(main())
