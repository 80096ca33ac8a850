"""``python -m napari_inf3`` (and ``torchrun -m napari_inf3``) runs the CLI."""

import sys

from .cli.main import main

sys.exit(main())
