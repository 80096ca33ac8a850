"""Test harnesses that ship with the package, so an installed copy can check itself.

- :mod:`napari_inf3.testing.fuzz`: mutated files of every format against the readers and the checkpoint
  loader (``python -m napari_inf3.testing.fuzz --seconds 60``; the test suite runs it in
  ``tests/test_fuzz.py``).

Nothing here is imported by the engine; importing this package loads nothing else.
"""
