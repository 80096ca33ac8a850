"""The data a fusion works on (numpy only, no torch, no Qt).

- :mod:`.cube`: :class:`~.cube.Cube` (a ``(bands, H, W)`` array with its wavelengths in nm, its source, its map
  position) and :class:`~.cube.CubeError`, the one error a bad input raises.
- :mod:`.simulation`: the paper's protocol: an LR-HSI (Gaussian blur, decimation at ``r // 2``) and an HR-MSI
  (a spectral response) from a ground-truth cube; the response files.
- :mod:`.responses`: the packaged sensors' spectral responses, resampled to a cube's band centres.
- :mod:`.geo`: where a cube is on Earth (CRS, transform, nodata) and two georeferenced files cut to a pair.
- :mod:`.sample`: the packaged sample scene (a crop of CAVE *superballs*).

Reading and writing files is :mod:`napari_inf3.io` (one reader registry for the CLI, the API and napari).
"""
