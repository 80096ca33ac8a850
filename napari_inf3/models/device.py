"""The one place that decides which torch device runs the network."""

from __future__ import annotations


def available_devices() -> list[str]:
    """Device names torch can use here, best first: ``['cuda:0', ..., 'cpu']``."""
    import torch

    names = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        names.append("mps")
    return names + ["cpu"]


def select_device(spec=None):
    """Resolve ``None`` / ``'auto'`` / ``'cpu'`` / ``'cuda'`` / ``'cuda:N'`` / a torch.device.

    ``None`` and ``'auto'`` pick the first GPU when torch sees one, else the CPU. Asking for
    a GPU that is not there raises a ``ValueError`` that lists what is available.
    """
    import torch

    if isinstance(spec, torch.device):
        spec = str(spec)
    if spec is None or str(spec).lower() == "auto":
        return torch.device(available_devices()[0])
    spec = str(spec).lower()
    names = available_devices()
    if spec == "cuda":
        spec = "cuda:0"
    if spec not in names:
        raise ValueError(f"device {spec!r} is not available here; available: {', '.join(names)}")
    return torch.device(spec)
