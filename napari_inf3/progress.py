"""One progress bar for the CLI and notebooks: ``tqdm.auto`` (a widget in Jupyter, text in a terminal)."""

from __future__ import annotations


def progress_bar(total: int, desc: str, unit: str = "it", disable: bool | None = None):
    """A ``tqdm.auto`` bar; ``disable=None`` hides it when the output is not a terminal or notebook."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True, disable=disable)
