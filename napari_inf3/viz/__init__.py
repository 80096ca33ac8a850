"""Pictures of cubes and runs (no Qt, no torch): what the demo, the CLI, notebooks and the napari docks draw.

- :mod:`.composites`: pseudo-colour composites and colour-mapped error / weight maps (numpy images).
- :mod:`.compare`: where and why the weighting schemes differ (weight maps, disagreement between fused cubes).
- :mod:`.spectra`: a pixel's spectrum (box mean) and CSV export.
- :mod:`.plots`: matplotlib drawings (spectra, responses, loss curves) on a given axes.
- :mod:`.figures`: a fusion run's pictures as matplotlib Figures (composites, errors, spectra, the metrics table).
"""
