"""``python -m experiments``: list the experiments and configs, or run one (see ``experiments/__init__.py``)."""

import sys

from . import main

sys.exit(main())
