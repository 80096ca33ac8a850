"""The command line prints the engine's warnings (a fusion's notes) as ``note: …`` lines, not as Python warnings
with a source file, line and code (napari_inf3/cli/main.py, ``notes_in_words``)."""

from __future__ import annotations

import warnings
from pathlib import Path

import napari_inf3
from napari_inf3.cli.main import notes_in_words

ENGINE_FILE = str(Path(napari_inf3.__file__).parent / "fusion" / "inference.py")


def test_engine_user_warnings_print_as_notes(capsys):
    passed_on = []  # what the handler in place before (Python's default, here a recorder) was given
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, category, *rest: passed_on.append((str(message), category))
        before = warnings.showwarning
        with notes_in_words():
            warnings.warn_explicit("kept its JPEG-tuned weights", UserWarning, ENGINE_FILE, 184)
            warnings.warn_explicit("from elsewhere", UserWarning, "/somewhere/else.py", 3)
            warnings.warn_explicit("old API", DeprecationWarning, ENGINE_FILE, 7)
        assert warnings.showwarning is before  # the previous handler is back
    err = capsys.readouterr().err
    assert err == "note: kept its JPEG-tuned weights\n"  # no source file, line or code for a note
    # not the engine's, or not for the user: as the handler before would show them
    assert passed_on == [("from elsewhere", UserWarning), ("old API", DeprecationWarning)]
