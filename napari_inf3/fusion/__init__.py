"""Fusing a pair: what goes in and comes out, the fusion itself, and a run of several models with its scores.

- :mod:`.types`: the frozen dataclasses that cross into and out of the engine (:class:`~.types.SimulatedPair`,
  :class:`~.types.RealPair`, :class:`~.types.FusionResult`).
- :mod:`.inference`: :func:`~.inference.fuse` (any model: a shipped name, a checkpoint, the SRF projection, a
  pair model, an ensemble; a camera) and bicubic.
- :mod:`.tiling`: a fusion's inputs checked and cut into tiles (lazy cubes stay lazy).
- :mod:`.upsampling`: bicubic upsampling of an LR-HSI (the baseline and INFN's skip connection).
- :mod:`.pipeline`: a fusion run: the pair prepared (simulated, or a real pair with its camera / response), bicubic
  and each model fused, scored, with the pictures' data (:class:`~.pipeline.FusionRun`).
"""
