"""The fusion models and what a user does with them: build, save, load, run on a device, combine.

- :mod:`.infn`: INFN and its parts (encoders, upsamplers, the INF³ fusion, the weighting schemes; torch).
- :mod:`.checkpoint`: the one checkpoint format (config + weights + training metadata) and its loader.
- :mod:`.variants`: INFN's ablation switches as plain values (for front ends that must not import torch).
- :mod:`.ensemble`: the three weighting schemes as one model, with an expected-|error| map.
- :mod:`.uncertainty`: that map's cues and calibration.
- :mod:`.device`: the one device-selection helper.

The shipped checkpoints are :mod:`napari_inf3.shipped`; a model fitted to one pair is :mod:`napari_inf3.pair`.
"""
