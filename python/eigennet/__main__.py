"""``python -m eigennet`` is the ``eigennet`` command."""

import sys

from .cli import main

sys.exit(main())
