"""Scores and tables: how good a fusion is, and how variants compare.

- :mod:`.metrics`: PSNR, SAM, ERGAS, SSIM and their maps (the one metric module of the CLI, the API and the GUI).
- :mod:`.report`: evaluation tables in the paper's layout (Table 1 / Table 4) over scenes and models.
- :mod:`.ablation_grid`: the ablation grid (variants × schemes × seeds × folds): runs it, resumes it.
- :mod:`.ablation_report`: its summary (mean ± std, paired t intervals).
"""
