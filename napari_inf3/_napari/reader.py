"""napari reader contribution: every format of the engine's registry, as one (bands, y, x) layer.

``get_reader`` never raises: it returns None for paths the registry does not know, and the
returned reader turns a :class:`~napari_inf3.data.cube.CubeError` into a napari notification.
"""

from __future__ import annotations

from pathlib import Path


def get_reader(path):
    """npe2 reader hook: a function that reads ``path``, or None if the suffix is not ours."""
    from ..io import find_format

    if isinstance(path, (list, tuple)):
        if len(path) != 1:
            return None
        path = path[0]
    try:
        p = Path(path)
        fmt = find_format(p)
        is_dir = p.is_dir()
    except OSError:
        return None
    if fmt is None and not is_dir:
        return None
    # a folder that is not a CAVE scene still gets our reader, which says what the folder lacks
    return read_layers


def read_layers(path):
    """Read one cube into ``[(data, kwargs, 'image')]``; on a bad file: a notification and no layer."""
    import warnings

    from napari.utils.notifications import show_error, show_warning

    from ..data.cube import CubeError
    from ..io import read_cube
    from .layers import cube_layer_data

    if isinstance(path, (list, tuple)):
        path = path[0]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cube = read_cube(path)
    except (CubeError, OSError, ValueError) as exc:
        show_error(f"napari-inf3 could not read {path}: {exc}")
        return [(None,)]
    for w in caught:
        show_warning(str(w.message))
    if cube.geo is not None:  # the status bar in map coordinates over it
        from napari import current_viewer

        from .map_status import connect_map_status

        connect_map_status(current_viewer())
    return [cube_layer_data(cube)]
