"""Release tooling: what makes and ships the checkpoints, mostly on a lent GPU machine.

Run each from the repository root as a module, so ``napari_inf3`` and these modules import from the
source tree (the GPU machine has no installed package, no napari, no spectral):

    bash tools/gpu_kit.sh                           # ready .pack/ and .wheels/, print the device call
    python -m tools.pack_scenes ../shared/data/cave --out .pack
    python -m tools.pack_check --pack .pack         # what the 8-bit pack costs training
    python -m tools.gpu_run --pack .pack --out OUT  # on the GPU: check it, train, time, CUDA tests
    python -m tools.ship_pretrained runs/gpu_paper/infn_paper_*_x4.pt

The whole procedure, with the budgets and learning rates used: docs/REPRODUCTION.md ("Commands").
"""
