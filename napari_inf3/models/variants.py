"""INFN's ablation switches as plain values, for the front ends that must not import torch (the CLI's parser,
the Training dock): the upsampler names, the ``model_options`` a set of switches asks for, and a variant in
words. :class:`~napari_inf3.models.infn.INFN` takes the same names as keywords.
"""

from __future__ import annotations

from typing import Any

#: ``INFN(upsampler=)``: the paper's implicit function and Table 5's alternatives
UPSAMPLERS = ("inf3", "bilinear", "bicubic", "pixelshuffle")


def ablation_options(*, hr_injection: bool = True, lr_injection: bool = True, rel_coord: bool = True,
                     upsampler: str = "inf3", scale: int = 4) -> dict[str, Any]:
    """The INFN keywords that differ from the full network (``{}`` for it); ``scale`` is pixel shuffle's fixed
    ratio (``upsampler_scale``)."""
    opts: dict[str, Any] = {name: False for name, on in (("hr_injection", hr_injection),
                                                         ("lr_injection", lr_injection),
                                                         ("rel_coord", rel_coord)) if not on}
    if upsampler != "inf3":
        opts["upsampler"] = upsampler
        if upsampler == "pixelshuffle":
            opts["upsampler_scale"] = int(scale)
    return opts


def describe_variant(config: dict[str, Any]) -> str:
    """``'full'``, or the ablations a model ``config`` (or ``model_options``) has, in words, joined by ``', '``."""
    words = []
    if config.get("upsampler", "inf3") != "inf3":
        words.append(f"{config['upsampler']} upsampler")
    for key, text in (("hr_injection", "no HR injection"), ("lr_injection", "no LR injection"),
                      ("rel_coord", "no relative coordinate")):
        if not config.get(key, True):
            words.append(text)
    return ", ".join(words) or "full"
