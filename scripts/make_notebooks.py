"""Write examples/*.ipynb from the cells below (outputs stripped; tests/test_notebooks.py executes them).

    .venv/bin/python scripts/make_notebooks.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parents[1] / "examples"

QUICKSTART = [
    new_markdown_cell(
        "# napari-inf3 quickstart\n\n"
        "The shipped sample (a 192² crop of CAVE *superballs*) simulated ×4 as in the INF³ paper (3 × 3 Gaussian "
        "blur, σ 0.5, the LR pixel r // 2 of each block; the HR-MSI through the Nikon D700 response), fused by "
        "bicubic and the three shipped checkpoints — LIIF's *area*, JIIF's *net* and INF³'s *cosine* weighting — "
        "and shown as in the napari demo."),
    new_code_cell("import napari_inf3 as ni\nfrom napari_inf3 import notebook as nb\n"
                  "from napari_inf3.data.sample import load_sample\n\n"
                  "gt = load_sample()                       # Cube: (31, 192, 192), 400–700 nm\n"
                  "lr, msi = ni.simulate(gt, scale=4)       # (31, 48, 48) and (3, 192, 192)\n"
                  "print(gt.data.shape, lr.shape, msi.shape, gt.wavelengths[[0, -1]])"),
    new_code_cell("run = nb.fuse_sample()                    # bicubic, area, net, cosine (tqdm.auto progress)\n"
                  "nb.overview(run)                          # composites (bands 31-20-10) and |GT − fused|"),
    new_code_cell("nb.errors(run)                            # error and SAM maps, each row on one scale"),
    new_code_cell("nb.spectra(run)                           # the paper's Fig. 7 layout at a uniform bright pixel"),
    new_code_cell("nb.metrics(run)                           # PSNR / SAM / ERGAS / SSIM"),
    new_markdown_cell(
        "## Click a pixel\n\n`nb.explore(run)` puts a composite beside the spectra of the clicked pixel (with a "
        "k × k box and pinning). Clicks need `ipympl`: `pip install napari-inf3[notebook]`, then run "
        "`%matplotlib widget` before this cell. Without it the figure is static (here, for the pixel given)."),
    new_code_cell("nb.explore(run, 115, 75)"),
    new_markdown_cell(
        "## The same run in napari\n\n```python\n%gui qt\nviewer = nb.open_napari(run)   # layers, docks, "
        "spectrum inspector\n```"),
]

TRAIN = [
    new_markdown_cell(
        "# Train a network from the API and compare it with the shipped ones\n\n"
        "A short run on the left half of the sample crop, evaluated on the right half (never trained on). "
        "It only shows the workflow: the shipped checkpoints were trained on 19 CAVE scenes on a GPU "
        "(docs/REPRODUCTION.md)."),
    new_code_cell("import matplotlib.pyplot as plt\n\nimport napari_inf3 as ni\n"
                  "from napari_inf3 import notebook as nb\nfrom napari_inf3.data.sample import load_sample\n"
                  "from napari_inf3.fusion.pipeline import fusion_run\nfrom napari_inf3.viz.plots import smoothed\n\n"
                  "gt = load_sample()\nleft = gt.data[:, :, :96]     # training half (31, 192, 96)\n"
                  "right = gt.data[:, :, 96:]    # held-out half"),
    new_code_cell("model, events = nb.train_with_progress(\n    [left], weighting=\"cosine\", preset=\"lite\", "
                  "epochs=4, patches_per_epoch=48, batch_size=8,\n    lr=2e-4, schedule=\"cosine\", seed=0)\n"
                  "steps = [e.step for e in events if e.kind == \"step\"]\n"
                  "losses = [e.loss for e in events if e.kind == \"step\"]\n"
                  "fig, ax = plt.subplots(figsize=(6, 3))\n"
                  "ax.plot(steps, losses, alpha=0.3, label=\"L1 loss (per step)\")\n"
                  "ax.plot(steps, smoothed(losses), label=\"smoothed\")\nax.set_yscale(\"log\")\n"
                  "ax.set_xlabel(\"step\")\nax.legend();"),
    new_code_cell("run = fusion_run({\"projection\": \"projection\", \"mine (cosine, 24 steps)\": model,\n"
                  "                  \"cosine (shipped)\": \"cosine\"},\n"
                  "                 ni.SimulatedPair(ni.Cube(right, gt.wavelengths), scale=4))\n"
                  "nb.metrics(run)"),
    new_code_cell("nb.overview(run)"),
]

CAMERA = [
    new_markdown_cell(
        "# Fine-tune a shipped model to another camera\n\n"
        "The shipped checkpoints learned HR-MSIs made with the Nikon D700 response. A pair from another camera "
        "needs that camera's response: estimated from the pair itself, it fixes the SRF projection at once, but "
        "the network still sees unfamiliar HR-MSIs and falls below the projection alone. Fine-tuning the shipped "
        "weights on pairs simulated with the estimated response fixes that (docs/REAL_PAIRS.md measures it on "
        "the 19 CAVE training scenes: 46.95 → 50.81 dB in 300 CPU steps). Here, a small version: 'another "
        "camera' is the Nikon curves moved 20 nm to the red; the response is estimated from the left half of the "
        "sample, the model is tuned on the left half and judged on the right half."),
    new_code_cell("import matplotlib.pyplot as plt\nimport numpy as np\n\nimport napari_inf3 as ni\n"
                  "from napari_inf3 import notebook as nb\nfrom napari_inf3.data.sample import load_sample\n"
                  "from napari_inf3.data.simulation import srf_wavelengths\n"
                  "from napari_inf3.fusion.pipeline import fusion_run\n"
                  "from napari_inf3.models.load import projection_model, with_srf\n"
                  "from napari_inf3.viz.plots import plot_srf\n\n"
                  "gt = load_sample()\nleft, right = gt.data[:, :, :96], gt.data[:, :, 96:]\n"
                  "nikon = ni.load_srf(\"nikon_d700\")\ncamera = np.zeros_like(nikon)   # another camera: "
                  "Nikon moved 20 nm (2 bands) to the red\ncamera[:, 2:], camera[:, :2] = nikon[:, :-2], nikon[:, :1]"),
    new_code_cell("fit = ni.estimate_srf(*ni.simulate(left, 4, camera), scale=4)   # from the pair alone\n"
                  "fig, ax = plt.subplots(figsize=(6, 3))\n"
                  "plot_srf(ax, fit.srf, srf_wavelengths(), reference=nikon, residual=fit.residual)\n"
                  "ax.set_title(\"estimated HR-MSI response (dashed) and the Nikon D700 (faint)\");"),
    new_code_cell("model, events = nb.train_with_progress(\n    [left], init=\"cosine\", srf=fit.srf, epochs=5, "
                  "patches_per_epoch=64, batch_size=8,\n    lr=2e-4, schedule=\"cosine\", seed=0)\n"
                  "print(events[-1].step, \"steps from the shipped cosine weights\")"),
    new_code_cell("import warnings\n\nwith warnings.catch_warnings():   # the shipped model warns about the response: "
                  "that is the point\n    warnings.simplefilter(\"ignore\")\n"
                  "    run = fusion_run({\"projection\": with_srf(projection_model(), fit.srf),\n"
                  "                      \"cosine (shipped)\": with_srf(ni.pretrained(\"cosine\"), fit.srf),\n"
                  "                      \"cosine (fine-tuned)\": model},\n"
                  "                     ni.SimulatedPair(ni.Cube(right, gt.wavelengths), srf=camera, scale=4))\n"
                  "nb.metrics(run)"),
    new_code_cell("nb.overview(run)"),
]


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, cells in (("quickstart.ipynb", QUICKSTART), ("train_and_compare.ipynb", TRAIN),
                        ("adapt_to_camera.ipynb", CAMERA)):
        nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                "language": "python"}})
        nbformat.write(nb, HERE / name)
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
