"""``python -m ntmkit ...``: the ``ntmkit`` command."""

import sys

from .cli import main

sys.exit(main())
