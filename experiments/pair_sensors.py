"""fit_pair on other sensors' scenes against the baselines a user has without it: bicubic, the SRF projection, and a
per-pixel regression fitted on the pair (linear, quadratic, MLP; then back-projected onto the LR-HSI and projected
onto the HR-MSI, the recipe of issue 32).

    python -m experiments pair_sensors --data /path/to/scenes --scenes a,b --sensors ikonos,sentinel2a_10m
    python -m experiments pair_sensors_dev          # the configs: the 12 scenes of docs/PAIR.md

Each scene is an ``.npz`` with ``cube`` (bands, rows, cols) and, when known, ``wavelengths`` (nm; else 400–2500 nm
evenly); it is clipped at 0, cropped to a multiple of 4 and divided by its maximum, then simulated ×4 with the
paper's protocol (σ 0.5, pixel r // 2) and each packaged sensor response resampled to its wavelengths. A real
HR-MSI stored in the file (``msi``, on the cube's grid) is used with ``--real-msi``. Writes ``--out`` (JSON, one
row per scene and sensor, PSNR in dB and seconds) and prints a Markdown table with the means.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np


def load_scene(path: Path, scale: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(cube in [0, 1], wavelengths nm, real HR-MSI on the cube's grid or None)``."""
    z = np.load(path)
    cube = np.clip(z["cube"].astype(np.float32), 0, None)
    wl = np.asarray(z["wavelengths"], float) if "wavelengths" in z else np.linspace(400, 2500, cube.shape[0])
    h, w = cube.shape[1] // scale * scale, cube.shape[2] // scale * scale
    peak = float(cube.max())
    msi = None
    if "msi" in z and z["msi"].shape[1:] == z["cube"].shape[1:]:
        msi = np.clip(z["msi"].astype(np.float32), 0, None)[:, :h, :w]
        msi /= float(msi.max())
    return cube[:, :h, :w] / peak, wl, msi


def regression_baseline(lr, msi, srf, scale: int, kind: str) -> np.ndarray:
    """Issue 32's per-pixel regression: learn LR-grid MSI pixel → LR-HSI pixel, apply it to the HR-MSI,
    back-project onto the LR-HSI (bicubic residual, once), project onto the HR-MSI."""
    import torch

    from napari_inf3.camera.fusion import project
    from napari_inf3.fusion.upsampling import bicubic
    from napari_inf3.pair.psf import Degradation

    d = Degradation(scale)
    y_lr = d.degrade(msi)
    s, S = msi.shape[0], lr.shape[0]
    x_in, t = y_lr.reshape(s, -1).T.astype(np.float64), lr.reshape(S, -1).T.astype(np.float64)
    mu, sd = x_in.mean(0), x_in.std(0) + 1e-12
    if kind in ("linear", "quadratic"):
        def feats(a):
            u = (a - mu) / sd
            parts = [np.ones((len(u), 1)), u]
            if kind == "quadratic":
                i, j = np.triu_indices(s)
                parts.append(u[:, i] * u[:, j])
            return np.concatenate(parts, 1)
        f = feats(x_in)
        a = f.T @ f + 1e-6 * len(f) * np.eye(f.shape[1])
        coef = np.linalg.solve(a, f.T @ t)
        predict = lambda v: feats(v) @ coef  # noqa: E731
    else:
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(s, 256), torch.nn.GELU(), torch.nn.Linear(256, 256), torch.nn.GELU(),
                                  torch.nn.Linear(256, S))
        u = torch.as_tensor((x_in - mu) / sd, dtype=torch.float32)
        tm, ts = t.mean(0), t.std(0).mean() + 1e-12
        target = torch.as_tensor((t - tm) / ts, dtype=torch.float32)
        opt = torch.optim.Adam(net.parameters(), lr=2e-3)
        for _ in range(800):
            loss = torch.nn.functional.l1_loss(net(u), target)
            opt.zero_grad()
            loss.backward()
            opt.step()

        def predict(v):
            with torch.no_grad():
                return net(torch.as_tensor((v - mu) / sd, dtype=torch.float32)).numpy() * ts + tm
    z = predict(msi.reshape(s, -1).T.astype(np.float64)).T.reshape(S, *msi.shape[1:]).astype(np.float32)
    z = z + bicubic(lr - d.degrade(z), msi.shape[1:])
    return np.maximum(project(z, srf, msi), 0)


def evaluate(gt, lr, msi, srf, scale: int, fit_srf) -> dict[str, float]:
    """Every method's PSNR (dB) on one pair, and fit_pair's seconds and self-check."""
    from napari_inf3 import fuse
    from napari_inf3.camera.fusion import project
    from napari_inf3.evaluation.metrics import psnr
    from napari_inf3.fusion.upsampling import bicubic
    from napari_inf3.pair import fit_pair

    up = bicubic(lr, msi.shape[1:])
    row = {"bicubic": psnr(up, gt), "projection": psnr(np.maximum(project(up, srf, msi), 0), gt)}
    for kind in ("linear", "quadratic", "mlp"):
        row[f"regression_{kind}"] = psnr(regression_baseline(lr, msi, srf, scale, kind), gt)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fit_pair(lr, msi, srf=fit_srf)
    row["pair"] = psnr(fuse(model, lr, msi).cube, gt)
    row["pair_seconds"] = time.perf_counter() - t
    row["pair_self_check_db"] = model.meta["self_check"]["held_out_db"]
    return {k: round(float(v), 3) for k, v in row.items()}


def main(argv=None) -> None:
    import torch

    from napari_inf3 import load_srf, simulate
    from napari_inf3.camera.srf_fit import estimate_srf

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="folder of <scene>.npz files")
    ap.add_argument("--scenes", required=True, help="comma-separated scene names (file stems)")
    ap.add_argument("--sensors", default="ikonos,sentinel2a_10m,worldview2", help="packaged response names")
    ap.add_argument("--real-msi", action="store_true", help="use each scene's own 'msi' (a real second sensor)")
    ap.add_argument("--unknown-srf", action="store_true", help="fit_pair fits the response (default: given)")
    ap.add_argument("--out", type=Path, required=True, help="JSON file of the rows")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    for name in args.scenes.split(","):
        gt, wl, real = load_scene(args.data / f"{name}.npz")
        for sensor in (["real"] if args.real_msi else args.sensors.split(",")):
            if sensor == "real":
                if real is None:
                    raise SystemExit(f"{name}: no 'msi' on the cube's grid for --real-msi")
                lr, msi = simulate(gt, 4, np.zeros((1, gt.shape[0]), np.float32))[0], real
                srf = estimate_srf(lr, msi, 4).srf  # what the projection and the regression baselines can use
            else:
                srf = load_srf(sensor, wavelengths=wl)
                lr, msi = simulate(gt, 4, srf)
            row = {"scene": name, "sensor": sensor, "bands": gt.shape[0], "size": list(gt.shape[1:]),
                   **evaluate(gt, lr, msi, srf, 4, None if args.unknown_srf or sensor == "real" else srf)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1) + "\n")
    methods = [k for k in rows[0] if k not in ("scene", "sensor", "bands", "size")]
    print("| scene | sensor | " + " | ".join(methods) + " |\n|---|---|" + "---|" * len(methods))
    for r in rows:
        print(f"| {r['scene']} | {r['sensor']} | " + " | ".join(f"{r[m]:.2f}" for m in methods) + " |")
    print("| **mean** | | " + " | ".join(f"**{np.mean([r[m] for r in rows]):.2f}**" for m in methods) + " |")


if __name__ == "__main__":
    main()
