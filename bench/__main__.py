"""``python -m bench``: list the timing benchmarks, or run one and record its summary (see ``bench/__init__.py``)."""

import sys

from . import main

sys.exit(main())
