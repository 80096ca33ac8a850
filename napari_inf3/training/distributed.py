"""Multi-process training with torch.distributed (DDP), as ``torchrun`` launches it.

``torchrun --nproc_per_node=N -m napari_inf3 train ...`` starts N copies of the CLI with
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous address in the environment;
:func:`context_from_env` joins the process group (gloo on the CPU, nccl on CUDA) and picks
this rank's device through :func:`napari_inf3.models.device.select_device` (``cuda:LOCAL_RANK``
when the job asks for a GPU). Without those variables (or with ``WORLD_SIZE=1``) training is
single-process and nothing here is used.

How the data is shared (:func:`napari_inf3.training.loop.train`): every step's *global* batch is
the same slice of the epoch order as in one process; a ``DistributedSampler`` (no shuffle) over
that order gives rank k the positions k, k + N, k + 2N, ..., so the N local batches together
are exactly the one-process batch and DDP's gradient average equals its gradient.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class DistContext:
    """This process's place in the job: ``rank`` of ``world`` processes, ``local_rank`` on its node."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    backend: str | None = None
    device: str = "cpu"  # where collective tensors live (nccl needs them on the GPU)

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that writes checkpoints and logs."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


def env_world_size() -> int:
    """``WORLD_SIZE`` from the environment (1 when not launched by torchrun)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def is_main_process() -> bool:
    """True unless this is a non-zero rank of a torchrun job (for printing before training starts)."""
    return os.environ.get("RANK", "0") == "0"


def context_from_env(device=None):
    """Join the torchrun process group if there is one; returns ``(DistContext, torch.device)``.

    ``device``: as :func:`~napari_inf3.models.device.select_device`; under torchrun ``'cuda'`` or
    ``None``/``'auto'`` with GPUs present become ``cuda:LOCAL_RANK``.
    """
    import torch
    import torch.distributed as dist

    from ..models.device import select_device

    world = env_world_size()
    if world <= 1:
        return DistContext(), select_device(device)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    dev = select_device(device)
    if dev.type == "cuda":
        dev = select_device(f"cuda:{local_rank}")
        torch.cuda.set_device(dev)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistContext(rank, world, local_rank, backend, str(dev)), dev


def all_sum(ctx: DistContext, values: list[float]) -> list[float]:
    """Sum ``values`` over all ranks (a no-op in one process)."""
    if not ctx.active:
        return list(values)
    import torch
    import torch.distributed as dist

    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    return t.cpu().tolist()


def shutdown(ctx: DistContext, wait_for_all: bool = True) -> None:
    """Leave the process group (call once training is over).

    ``wait_for_all``: meet the other ranks at a barrier first (the normal end), so no rank tears
    its gloo connections down while a peer still holds them. CI once saw a rank abort at exit after
    a finished run ("terminate called without an active exception", SIGABRT); an early teardown is
    the suspected cause, not reproduced here. Pass False on an error path, where the peers may never arrive.
    """
    if ctx.active:
        import torch.distributed as dist

        if dist.is_initialized():
            if wait_for_all:
                dist.barrier()
            dist.destroy_process_group()
