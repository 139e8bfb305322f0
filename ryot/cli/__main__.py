"""``python -m ryot.cli``: the ``ryot`` command."""

import sys

from ryot.cli import main

sys.exit(main())
