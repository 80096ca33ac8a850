"""Fusing a pair: what goes in and comes out, the fusion itself, and a run of several models with its scores.

- :mod:`.types`: the frozen dataclasses that cross into and out of the engine (:class:`~.types.SimulatedPair`,
  :class:`~.types.RealPair`, :class:`~.types.FusionResult`).
- :mod:`.inference`: :func:`~.inference.fuse` (any model: a shipped name, a checkpoint, the SRF projection, a
  pair model, an ensemble; a camera) and bicubic.
- :mod:`.tiling`: a fusion's inputs checked and cut into tiles (lazy cubes stay lazy).
- :mod:`.upsampling`: bicubic upsampling of an LR-HSI (the baseline and INFN's skip connection).
- :mod:`.prepare`: a run's inputs made ready (simulated from a ground truth, or a real pair with its camera,
  response and alignment).
- :mod:`.run`: :class:`~.run.FusionRun`, a run's record: the prepared inputs and one immutable
  :class:`~.run.MethodResult` per method (cube, time, weights, scores, maps), the pictures made from them.
- :mod:`.pipeline`: a fusion run: bicubic and each model fused (an ensemble from its members), then scored.
"""
