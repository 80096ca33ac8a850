"""The ``napari-inf3`` command: :mod:`.main` (the parser and the subcommands: train, fuse, evaluate, demo, …) and
:mod:`.grid` (the ablation grid's subcommand). Nothing in the package imports it."""

from .main import main

__all__ = ["main"]
