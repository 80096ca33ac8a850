"""``napari-inf3``: train, fuse and evaluate INF³ fusion from the command line, or run the demo.

Every failure the user can fix (a bad file, a wrong size, an existing output) ends with a
one-line ``napari-inf3: error: ...`` message and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..models.variants import UPSAMPLERS  # --upsampler's choices: torch-free, so the parser is built without torch

EPILOG = """\
examples:
  napari-inf3 demo                               napari with a sample scene fused (or --headless)
  napari-inf3 evaluate cave/superballs_ms cave/face_ms --models area net cosine
  napari-inf3 evaluate cave/ --out-dir results   every scene folder inside cave/
  napari-inf3 fuse --gt scene/ --model cosine --out fused.npz
  napari-inf3 fuse --lr-hsi lr.npz --hr-msi msi.tif --model my.pt --out fused.hdr
  napari-inf3 fuse --lr-hsi aviris.mat --hr-msi s2.tif --model pair --out fused.hdr   any sensor: fit to the pair
  napari-inf3 evaluate scene.mat --models pair projection --srf sentinel2a_10m        other sensors, simulated
  napari-inf3 train cave/ --exclude superballs_ms --val cave/superballs_ms --out my.pt
  torchrun --nproc_per_node=2 -m napari_inf3 train cave/ --out my.pt   DDP: 2 processes, one global batch
  napari-inf3 grid cave/ --out runs/g --variants full no_hr --test-also superballs_ms --jobs 2   ablations

Cubes: CAVE PNG folders, ENVI .hdr, MATLAB .mat (v5 and v7.3), .npy/.npz, .tif/.tiff.
Models: 'area', 'net', 'cosine' (the shipped lite checkpoints), 'paper:area' etc. (the shipped paper-preset
ones), 'projection' (SRF projection of bicubic, the no-learning baseline), 'pair' (a fusion fitted to the
pair itself: any band count and camera, no ground truth needed) or a checkpoint file.
The simulation keeps pixel r // 2 of each r x r block (the paper's protocol; --offset changes it).
"""


def _progress(total: int, desc: str, unit: str = "it"):
    from ..progress import progress_bar

    return progress_bar(total, desc, unit, disable=None)


def cmd_evaluate(args) -> int:
    from ..evaluation.report import evaluate_scenes, write_report
    from ..io import scene_paths

    scenes = scene_paths(args.scenes, args.exclude)
    models = {m if not Path(m).exists() else Path(m).stem: m for m in args.models}
    if args.plot_pixel and not args.out_dir:
        raise ValueError("--plot-pixel writes a PNG: give --out-dir too")
    bar = _progress(len(scenes) * (1 + len(models)), "evaluate", "fusion")
    plot_scene = args.plot_scene or Path(scenes[0]).name
    kept: dict[str, object] = {}

    def tick(scene, method, scores):
        bar.set_postfix_str(f"{scene} {method} {scores['psnr']:.2f} dB")
        bar.update()

    def keep(scene, method, fused):
        if args.plot_pixel and scene == plot_scene:
            r, c = args.plot_pixel
            kept[method] = fused[:, r, c].copy()

    report = evaluate_scenes(scenes, models, scale=args.scale, srf=args.srf, device=args.device, crop=args.crop,
                             on_scene=tick, keep=keep, offset=args.offset, clip=not args.no_clip)
    bar.close()
    print(report.markdown(per_scene=not args.summary_only))
    if args.out_dir:
        for p in write_report(report, Path(args.out_dir), overwrite=args.overwrite):
            print(f"wrote {p}")
    if args.plot_pixel:
        print(f"wrote {plot_pixel_spectra(scenes, plot_scene, kept, args)}")
    return 0


def plot_pixel_spectra(scenes, plot_scene: str, kept: dict, args) -> Path:
    """Fig. 7 of the paper: GT and every method's spectrum at one pixel, with a zoom on bands 18–22."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    from ..data.cube import CubeError
    from ..io import read_cube
    from ..io.atomic import save_figure
    from ..viz.plots import plot_spectra

    match = [s for s in scenes if Path(s).name == plot_scene]
    if not match:
        raise CubeError(f"--plot-scene {plot_scene!r} is not among the evaluated scenes")
    gt = read_cube(match[0])
    r, c = args.plot_pixel
    if not (0 <= r < gt.data.shape[1] and 0 <= c < gt.data.shape[2]):
        raise CubeError(f"pixel (row {r}, col {c}) is outside the {gt.data.shape[1]}×{gt.data.shape[2]} image",
                        gt.source)
    curves = {"GT": gt.data[:, r, c], **kept}
    fig = Figure(figsize=(8, 4), dpi=120, layout="constrained")
    ax, zax = fig.subplots(1, 2, width_ratios=[3, 1])
    plot_spectra(ax, gt.wavelengths, curves, title=f"{plot_scene}: spectrum at (row {r}, col {c})", reference="GT",
                 zoom_ax=zax, zoom_bands=tuple(args.zoom_bands))
    out = Path(args.out_dir) / f"spectra_{plot_scene}_{r}_{c}.png"
    if out.exists() and not args.overwrite:
        raise CubeError("already exists; pass --overwrite to replace it", out)
    return save_figure(fig, out)


def cmd_fuse(args) -> int:
    import numpy as np

    from ..data.cube import Cube, CubeError
    from ..evaluation.metrics import evaluate
    from ..io import write_cube

    out = Path(args.out)
    if args.expected_error_out and "ensemble" not in str(args.model):
        raise CubeError("--expected-error-out needs --model ensemble or paper:ensemble (the map comes from the "
                        "three schemes' disagreement)")
    for dest in (out, args.weights_out, args.srf_out, args.expected_error_out):
        if dest and Path(dest).exists() and not args.overwrite:
            raise CubeError("already exists; pass --overwrite to replace it", dest)
    if args.save_model and Path(args.save_model).exists() and not args.overwrite:
        raise CubeError("already exists; pass --overwrite to replace it", args.save_model)
    job = _fuse_inputs(args)
    if str(args.model) == "pair":
        job = _fit_pair_job(args, job)
    elif args.save_model:
        raise CubeError("--save-model saves the model fitted to the pair: it goes with --model pair")
    result = _fuse_to_file(args, job, out)
    if args.weights_out:
        from ..viz.compare import NEIGHBOURS

        assert result.weights is not None
        wpath = write_cube(Cube(result.weights, None, None, {"content": "INF3 neighbour weights",
                                                             "neighbours": ",".join(NEIGHBOURS),
                                                             "model": str(args.model)}),
                           Path(args.weights_out), overwrite=args.overwrite)
        print(f"wrote {wpath} {tuple(result.weights.shape)} (neighbour weights, {'/'.join(NEIGHBOURS)})")
    if result.expected_error is not None:
        print(f"expected mean |error| {float(result.expected_error.mean()):.5f} (95th percentile "
              f"{float(np.percentile(result.expected_error, 95)):.5f}), from the schemes' disagreement")
        if args.expected_error_out:
            epath = write_cube(Cube(result.expected_error[None], None, None,
                                    {"content": "expected mean |error| over bands", "model": str(args.model)}),
                               Path(args.expected_error_out), overwrite=args.overwrite)
            print(f"wrote {epath} {(1, *result.expected_error.shape)} (expected |error|)")
    if job.camera is not None:
        _print_pair_check(job.lr, job.msi, job.camera, result.cube, str(args.model),
                          None if job.aligned is None else job.aligned.valid)
    if job.gt is not None:
        fused = result.cube
        scores = evaluate(fused, np.asarray(job.gt.data)[:, : fused.shape[1], : fused.shape[2]], args.scale)
        print("  ".join(f"{k}={v:.4f}" for k, v in scores.items()))
    return 0


@dataclass(frozen=True)
class _FuseJob:
    """What ``napari-inf3 fuse`` fuses, read from its arguments: the pair (simulated from ``gt`` or read),
    its wavelengths (nm), and the response or camera the HR-MSI is read with."""

    lr: Any
    msi: Any
    wavelengths: Any = None
    gt: Any = None
    srf: Any = None
    camera: Any = None
    #: ``--model pair``: the model fitted to this pair (it carries the camera / response it was fitted with)
    model: Any = None
    #: two georeferenced inputs: the :class:`~napari_inf3.data.geo.AlignedPair` (the output's grid and nodata)
    aligned: Any = None


def _fuse_inputs(args) -> _FuseJob:
    """``--gt`` (simulated ×``--scale``) or ``--lr-hsi`` + ``--hr-msi``; then ``--camera`` / ``--srf`` /
    ``--align`` applied (estimates printed)."""
    from ..data.cube import CubeError
    from ..data.simulation import simulate
    from ..io import read_cube

    gt = None
    storage = None
    aligned = None
    srf = None if args.srf in (None, "estimate") else args.srf
    if args.gt:
        from ..data.simulation import load_srf

        gt = read_cube(args.gt)
        # the simulation's response: a name or CSV on the cube's band centres when it has them
        made_with = load_srf(srf or "nikon_d700", bands=gt.bands, wavelengths=gt.wavelengths)
        lr, msi = simulate(gt, args.scale, made_with, crop=args.crop, offset=args.offset)
        srf = made_with if srf is not None else None  # what the fusion is told: only a response the user named
        wl = gt.wavelengths
    elif args.lr_hsi and args.hr_msi:
        lr_c, msi_c = read_cube(args.lr_hsi), read_cube(args.hr_msi)
        lr, msi, wl = lr_c.data, msi_c.data, lr_c.wavelengths
        if lr_c.geo is not None and msi_c.geo is not None:  # two positions on Earth: their common footprint
            from ..data.geo import align_pair

            aligned = align_pair(lr_c, msi_c, reproject=args.reproject)
            lr, msi = aligned.lr_hsi, aligned.hr_msi
            for note in aligned.notes:
                print(f"georeferenced pair: {note}")
            print(f"georeferenced pair: ×{aligned.scale}, fused on the HR-MSI's grid over the common footprint "
                  f"({msi.shape[1]} × {msi.shape[2]} HR pixels)")
        elif (lr_c.geo is None) != (msi_c.geo is None):
            print(f"note: only the {'LR-HSI' if msi_c.geo is None else 'HR-MSI'} is georeferenced: the two images "
                  "are taken to cover the same footprint, and the result is written without a position")
        storage = msi_c.meta.get("jpeg")  # a JPEG photo: its tables and chroma subsampling go into its camera
    else:
        raise CubeError("give either --gt (simulate the pair) or both --lr-hsi and --hr-msi")
    camera = None
    if args.camera:
        if args.srf is not None:
            raise CubeError("--camera carries its own response: leave out --srf")
        camera, lr, msi = _camera_for_pair(args, lr, msi, gt is not None, storage)
    elif args.srf == "estimate" or args.align:
        srf, msi = _estimate_pair(args, lr, msi, wl, srf, None if aligned is None else aligned.valid)
    return _FuseJob(lr, msi, wl, gt, srf, camera, aligned=aligned)


def _has_calibration(model: str) -> bool:
    """Whether ``--model`` names a shipped ensemble with an error calibration (its expected |error| is printed)."""
    from ..shipped import calibration_path, parse_spec

    spec = parse_spec(str(model))
    return spec is not None and spec[0] == "ensemble" and calibration_path(spec[1]).is_file()


def _tile_option(tile: int | None) -> int | str:
    """``--tile``: none → ``'auto'``, 0 → ``'off'``, else the LR tile side."""
    from ..data.cube import CubeError

    if tile is None:
        return "auto"
    if tile < 0:
        raise CubeError(f"--tile takes a side in LR pixels, or 0 for none; got {tile}")
    return "off" if tile == 0 else tile


def _fuse_to_file(args, job: _FuseJob, out: Path):
    """Fuse ``job`` and write the cube to ``out`` (ENVI: tile by tile into a memory map); the FusionResult."""
    import warnings

    from ..camera.gate import CameraFitWarning
    from ..data.cube import Cube
    from ..fusion.inference import fuse
    from ..io import write_cube

    bar = _progress(1, "fuse", "tile")

    def tick(done, total):
        bar.total = total
        bar.n = done
        bar.refresh()

    # a model fitted to the pair carries its camera and response; any other model is told them here
    read_with = {} if job.model is not None else {"srf": job.srf, "camera": job.camera}

    def run_fusion(target=None):
        with warnings.catch_warnings():
            # the camera's fit was printed in words above: fuse()'s CameraFitWarning would repeat it on stderr
            warnings.simplefilter("ignore", CameraFitWarning)
            return fuse(job.model if job.model is not None else args.model, job.lr, job.msi, args.device,
                        tile=_tile_option(args.tile), progress=tick, precision=args.precision,
                        clip=not args.no_clip, weights=bool(args.weights_out), out=target,
                        uncertainty=_has_calibration(args.model), **read_with)

    if out.suffix.lower() == ".hdr":
        result = _fuse_to_envi(args, job, out, run_fusion)
        path = out
    else:
        result = run_fusion()
        meta = {"model": str(args.model)} | ({"offset": args.offset if args.offset is not None else args.scale // 2}
                                            if args.gt else {})
        cube = Cube(result.cube, job.wavelengths, None, meta)
        if job.aligned is not None:  # on the HR-MSI's grid over the footprint, nodata where an input had none
            cube = job.aligned.finish(result.cube)
            cube.meta.update(meta)
        path = write_cube(cube, out, overwrite=args.overwrite, allow_negative=args.no_clip)
    bar.close()
    print(f"wrote {path} {tuple(result.cube.shape)}")
    return result


def _fuse_to_envi(args, job: _FuseJob, out: Path, run_fusion):
    """ENVI output: written tile by tile into a memory-mapped file, so the result need not fit in RAM; under a
    temporary name until complete, so a failed run leaves no half-written cube; on the HR-MSI's map grid (and
    nodata) for a georeferenced pair. The FusionResult."""
    from ..io.envi import create

    tmp = out.with_name(f".{out.stem}.partial.hdr")
    shape = (job.lr.shape[0], job.msi.shape[1], job.msi.shape[2])
    geo = None if job.aligned is None else job.aligned.finish_geo()
    try:
        target = create(tmp, shape, job.wavelengths, description=f"napari-inf3 fusion with {args.model}", geo=geo)
        result = run_fusion(target)
        if geo is not None and not job.aligned.valid.all():
            target[:, ~job.aligned.valid] = geo.nodata
        target.flush()
        del target
        tmp.with_suffix(".img").replace(out.with_suffix(".img"))
        tmp.replace(out)
    finally:
        for leftover in (tmp, tmp.with_suffix(".img")):
            leftover.unlink(missing_ok=True)
    return result


def _fit_pair_job(args, job: _FuseJob) -> _FuseJob:
    """``--model pair``: fit a model to the pair (its camera or response when the command has one, else fitted),
    say how it was fitted and what its self-check found, save it (``--save-model``); the job with the model."""
    import dataclasses

    from ..models.checkpoint import save_checkpoint
    from ..pair.report import describe_fit, shipped_advice

    bar = _progress(100, "fit to the pair", "%")

    def tick(done, total):
        bar.n = done
        bar.refresh()

    from ..pair import fit_pair

    model = fit_pair(job.lr, job.msi, srf=None if job.camera is not None else job.srf, camera=job.camera,
                     wavelengths=job.wavelengths, device=args.device, progress=tick,
                     valid=None if job.aligned is None else job.aligned.valid)
    bar.close()
    for line in describe_fit(model):
        print(line)
    advice = shipped_advice(model.bands, model.msi_bands)
    if advice:
        print(advice)
    if args.save_model:
        print(f"wrote {save_checkpoint(model, args.save_model, meta=model.meta)} (the fitted model)")
    return dataclasses.replace(job, model=model)


def _camera_for_pair(args, lr, msi, simulated: bool, storage: dict | None = None):
    """``--camera estimate|FILE``: the HR-MSI's camera fitted from the pair (``--curve``, ``--align``,
    ``--estimate-blur``; saved with ``--camera-out``; a JPEG photo's ``storage`` kept in it) or loaded. With
    ``--gt`` a loaded camera also *makes* the HR-MSI: the simulated linear one stored as that camera would
    (a JPEG camera: compressed with its tables). Returns ``(camera, lr, msi)``."""
    from ..camera import CameraFit, check_fit, estimate_camera
    from ..camera.jpeg import JpegStorage
    from ..data.cube import CubeError

    if args.camera_out and Path(args.camera_out).exists() and not args.overwrite:
        raise CubeError("already exists; pass --overwrite to replace it", args.camera_out)
    if args.camera == "estimate":
        if simulated:
            raise CubeError("--camera estimate fits a real pair's camera; with --gt give a camera file to simulate "
                            "the HR-MSI through")
        camera = estimate_camera(lr, msi, msi.shape[1] // lr.shape[1], offset=args.offset, curve=args.curve,
                                 shift=args.align, estimate_blur=args.estimate_blur,
                                 jpeg=None if storage is None else JpegStorage.from_dict(storage))
        print(f"estimated camera: {camera.describe()}")
        if args.camera_out:
            print(f"wrote {camera.save(args.camera_out, overwrite=args.overwrite)}")
    else:
        camera = CameraFit.load(args.camera)
        print(f"camera {args.camera}: {camera.describe()}")
        if simulated:
            msi = camera.store(msi)
    for finding in check_fit(camera):
        print(f"camera fit {finding}" if finding.level == "ok" else f"{finding.level.upper()}: {finding.message}")
    return camera, lr, msi


def _print_pair_check(lr, msi, camera, fused, name: str, valid=None) -> None:
    """What can be said without ground truth: each result degraded back against the LR-HSI, bicubic's too
    (a georeferenced pair's nodata pixels, ``valid`` False, left out). The fit's own findings were printed with
    the camera (:func:`_camera_for_pair`): only a result below bicubic is added here."""
    from ..camera import check_results, pair_report

    scores, _ = pair_report(lr, msi, camera, {name: fused}, valid=valid)
    print("pair-only check (no ground truth; higher is better): " + ";  ".join(
        f"{k}: LR-HSI reproduced {v['lr_psnr']:.2f} dB, HR-MSI {v['msi_psnr']:.2f} dB" for k, v in scores.items()))
    for finding in check_results(scores):
        print(f"{finding.level.upper()}: {finding.message}")


def _estimate_pair(args, lr, msi, wl, srf, valid=None):
    """``--align`` and ``--srf estimate``: the HR-MSI's shift (then moved back) and the response, printed."""
    import numpy as np

    from ..camera.srf_fit import prepare_pair
    from ..data.simulation import srf_wavelengths, write_srf_csv

    msi, shift, fit = prepare_pair(lr, msi, msi.shape[1] // lr.shape[1], align=args.align,
                                   estimate=args.srf == "estimate", offset=args.offset,
                                   estimate_blur=args.estimate_blur, valid=valid)
    if shift is not None:
        print(f"HR-MSI shift (dy, dx) = ({shift[0]:+.2f}, {shift[1]:+.2f}) HR pixels; aligned")
    if fit is not None:
        srf = fit.srf
        print(f"estimated spectral response ({fit.srf.shape[0]} × {fit.srf.shape[1]}), blur σ {fit.sigma:.2f} HR px, "
              "fit residual " + ", ".join(f"{r:.2%}" for r in fit.residual))
        if args.srf_out:
            nm = wl if wl is not None and len(wl) == fit.srf.shape[1] else srf_wavelengths()
            print(f"wrote {write_srf_csv(fit.srf, args.srf_out, np.asarray(nm))}")
    return srf, msi


def cmd_train(args) -> int:
    from ..data.cube import CubeError
    from ..training.config import TrainConfig
    from ..training.distributed import env_world_size, is_main_process
    from ..training.loop import train

    main_rank = is_main_process()  # under torchrun only rank 0 prints (and writes checkpoints)

    out = Path(args.out)
    if out.exists() and not args.overwrite and args.resume is None:
        raise CubeError("already exists; pass --overwrite to replace it, or --resume it", out)
    from ..io import scene_paths

    scenes = scene_paths(args.scenes, args.exclude)
    val = scene_paths(args.val) if args.val else []
    overlap = {p.resolve() for p in scenes} & {p.resolve() for p in val}
    if overlap:
        raise CubeError(f"validation scenes are also training scenes: {sorted(str(p) for p in overlap)}")
    model_options = _model_options(args)
    if main_rank:
        procs = env_world_size()
        what = f"from {args.init}" if args.init else f"{args.weighting}/{args.preset}"
        if model_options:
            from ..models.variants import describe_variant

            what += f" ({describe_variant(model_options)})"
        print(f"training {what} on {len(scenes)} scene(s), validating on {len(val)}"
              + (f", {procs} processes (global batch {args.batch_size})" if procs > 1 else ""))
    bar = None
    config = TrainConfig(
        weighting=args.weighting, preset=args.preset, model_options=model_options, consistency=args.consistency,
        scale=args.scale,
        offset=args.offset, patch=args.patch, batch_size=args.batch_size, lr=args.lr, schedule=args.schedule,
        precision=args.precision, compile=args.compile, srf=args.srf, camera=args.camera, epochs=args.epochs,
        patches_per_epoch=args.patches_per_epoch, seed=args.seed, device=args.device, out=out,
        resume=args.resume, init=args.init, max_seconds=None if args.max_minutes is None else args.max_minutes * 60,
        grad_clip=args.grad_clip, overwrite=args.overwrite,
    )
    for ev in train(scenes, config, val_scenes=val):
        if not main_rank:
            continue
        if bar is None:
            bar = _progress(ev.total_steps, "train", "step")
            bar.n = ev.step - 1
        if ev.extra.get("start_val_psnr") is not None:
            bar.write(f"starting from {args.init}: validation PSNR {ev.extra['start_val_psnr']:.2f} dB")
        if ev.kind == "step":
            bar.n = ev.step
            bar.set_postfix_str(f"epoch {ev.epoch + 1} loss {ev.loss:.4f}")
            bar.refresh()
        elif ev.kind == "epoch":
            val_txt = "" if ev.val_psnr is None else f", validation PSNR {ev.val_psnr:.2f} dB"
            bar.write(f"epoch {ev.epoch}: mean loss {ev.loss:.5f}{val_txt}, {ev.seconds:.0f} s -> {ev.checkpoint}")
    if bar is not None:
        bar.close()
    if main_rank:
        print(f"checkpoint: {out}")
    return 0


def _model_options(args) -> dict[str, Any] | None:
    """``TrainConfig.model_options`` from the ablation switches: None when none is given (the full network),
    else only what differs from it. A CubeError when they cannot apply: with --init / --resume (the model
    keeps its own architecture) or --no-rel-coord with another upsampler than INF³'s."""
    from ..data.cube import CubeError
    from ..models.variants import ablation_options

    opts = ablation_options(hr_injection=not args.no_hr_injection, lr_injection=not args.no_lr_injection,
                            rel_coord=not args.no_rel_coord, upsampler=args.upsampler, scale=args.scale)
    if not opts:
        return None
    given = ", ".join(_ablation_flags(opts))
    if args.init or args.resume:
        raise CubeError(f"{given}: --{'init' if args.init else 'resume'} keeps its model's own architecture; "
                        "the ablation switches make a new network (leave them out, or leave out "
                        f"--{'init' if args.init else 'resume'})")
    if "rel_coord" in opts and "upsampler" in opts:
        raise CubeError(f"--no-rel-coord is an ablation of INF³'s implicit function; the {args.upsampler} "
                        "upsampler has no relative coordinate to leave out (drop one of the two)")
    return opts


def _ablation_flags(opts: dict[str, Any]) -> list[str]:
    """The command-line switches that ask for ``opts`` (for messages)."""
    flags = [f"--no-{name.replace('_', '-')}" for name in ("hr_injection", "lr_injection", "rel_coord") if name in opts]
    return flags + ([f"--upsampler {opts['upsampler']}"] if "upsampler" in opts else [])


def cmd_demo(args) -> int:
    from ..demo import run_demo

    headless = args.headless or not os.environ.get("DISPLAY") and sys.platform.startswith("linux")
    if not headless:  # napari on PyQt6 even where PyQt5 is installed too (before anything imports Qt)
        from ..qt_default import prefer_default_binding

        prefer_default_binding()
    out = Path(args.out) if args.out else _free_folder(Path("inf3-demo"))
    return run_demo(headless=headless, out_dir=out, overwrite=args.overwrite, device=args.device, scene=args.scene,
                    offset=args.offset)


def _free_folder(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3``, ... : the first that does not exist or is empty."""
    candidate, k = base, 1
    while candidate.exists() and any(candidate.iterdir()):
        k += 1
        candidate = base.with_name(f"{base.name}-{k}")
    return candidate


def build_parser() -> argparse.ArgumentParser:
    """The ``napari-inf3`` parser: ``--version`` and the evaluate, fuse, train and demo subcommands."""
    ap = argparse.ArgumentParser(
        prog="napari-inf3",
        description="Fuse a low-resolution hyperspectral image with a high-resolution multispectral image "
        "using INF3 (Implicit Neural Feature Fusion Function).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from .. import __version__

    ap.add_argument("--version", action="version", version=f"napari-inf3 {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    _add_evaluate_args(sub)
    _add_fuse_args(sub)
    _add_train_args(sub)
    _add_demo_args(sub)
    from .grid import add_grid_args

    add_grid_args(sub)
    return ap


def _add_common_args(p: argparse.ArgumentParser) -> None:
    """The options evaluate, fuse and train share: --scale, --offset, --device, --overwrite."""
    p.add_argument("--scale", type=int, default=4, help="HR/LR size ratio r of the simulation (default 4)")
    p.add_argument("--offset", type=int, default=None,
                   help="which pixel of each r×r block the simulated LR-HSI keeps, 0..r-1 "
                   "(default r // 2, the paper's protocol; 0 = this tool before 2026-11-26)")
    p.add_argument("--device", default="auto", help="auto (GPU when torch sees one), cpu, cuda, cuda:N")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")


def _add_evaluate_args(sub) -> None:
    """``evaluate``: the paper's metrics table over ground-truth scenes (:func:`cmd_evaluate`)."""
    p = sub.add_parser("evaluate", help="metrics table: bicubic and each model, per scene and mean ± std",
                       description="Simulate LR-HSI/HR-MSI from ground-truth scenes as the paper does, fuse with "
                       "bicubic and each model, and print PSNR / SAM / ERGAS / SSIM like the paper's Table 1.")
    p.add_argument("scenes", nargs="+", help="ground-truth cubes, or folders that contain them")
    p.add_argument("--models", nargs="+", default=["projection", "area", "net", "cosine"],
                   help="pretrained names ('area', 'net', 'cosine'; 'paper:cosine' etc. for the paper preset; "
                   "'ensemble' / 'paper:ensemble': the three averaged, each fused once), 'projection' (the SRF "
                   "projection of bicubic: what the networks add to), or checkpoint files")
    p.add_argument("--no-clip", action="store_true", help="score the raw network output (default: clipped at 0)")
    p.add_argument("--srf", default="nikon_d700",
                   help="the simulated HR-MSI's response: a packaged name (nikon_d700, sentinel2a_10m, worldview2, "
                        "landsat8_oli, ...; resampled to each scene's wavelengths) or a CSV")
    p.add_argument("--exclude", nargs="*", default=[], help="scene names to skip")
    p.add_argument("--out-dir", help="also write metrics.md and metrics.csv here")
    p.add_argument("--crop", action="store_true", help="crop sizes not divisible by the scale")
    p.add_argument("--summary-only", action="store_true", help="print only the mean ± std table")
    p.add_argument("--plot-pixel", nargs=2, type=int, metavar=("ROW", "COL"),
                   help="also plot GT and every method's spectrum at this pixel (the paper's Fig. 7)")
    p.add_argument("--plot-scene", help="scene name for --plot-pixel (default: the first scene)")
    p.add_argument("--zoom-bands", nargs=2, type=int, default=[18, 22], metavar=("FIRST", "LAST"),
                   help="band range of the plot's zoom window (default 18 22, as Fig. 7)")
    _add_common_args(p)
    p.set_defaults(func=cmd_evaluate)


def _add_fuse_args(sub) -> None:
    """``fuse``: one LR-HSI/HR-MSI pair, given or simulated from --gt, into an HR-HSI file (:func:`cmd_fuse`)."""
    from ..camera.curves import CURVE_KINDS  # numpy only: the parser stays quick to build

    p = sub.add_parser("fuse", help="fuse one LR-HSI/HR-MSI pair (or a simulated pair from --gt)",
                       description="Fuse a pair into an HR-HSI and write it (.npz, .hdr or .tif).")
    p.add_argument("--gt", help="ground-truth cube to simulate the pair from (prints metrics)")
    p.add_argument("--lr-hsi", help="low-resolution hyperspectral cube")
    p.add_argument("--hr-msi", help="high-resolution multispectral image (bands, rows, cols)")
    p.add_argument("--model", default="cosine",
                   help="pretrained name ('area', 'net', 'cosine', 'ensemble'; 'paper:…' for the paper preset), "
                   "'projection', 'pair' (fitted to this pair: any band count and camera), or a checkpoint file "
                   "(default cosine)")
    p.add_argument("--out", required=True, help="output cube: .npz, .hdr (ENVI) or .tif; two georeferenced inputs "
                   "(GeoTIFF, ENVI map info): fused over their common footprint on the HR-MSI's grid, written "
                   "with its CRS, transform and nodata (.tif: GeoTIFF, .hdr: map info)")
    p.add_argument("--tile", type=int, default=None, help="LR tile side (default: from free memory; 0 = untiled)")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"],
                   help="network arithmetic: bf16/fp16 autocast (fp16: CUDA only); output stays float32")
    p.add_argument("--crop", action="store_true", help="crop --gt to a multiple of the scale")
    p.add_argument("--srf", default=None,
                   help="the HR-MSI camera's spectral response: 'estimate' (fit it from the pair), a packaged name "
                   "(nikon_d700, the default) or a CSV (header channel,<nm>,...; one row per MSI band). With --gt "
                   "a name or CSV also simulates the HR-MSI with it")
    p.add_argument("--srf-out", help="with --srf estimate: write the estimated response to this CSV")
    p.add_argument("--estimate-blur", action="store_true",
                   help="with --srf estimate or --camera estimate: also search the blur σ relating the two grids")
    p.add_argument("--align", action="store_true",
                   help="estimate the HR-MSI's shift against the LR-HSI and move it back before fusing")
    p.add_argument("--reproject", action="store_true",
                   help="two georeferenced files in different coordinate systems: warp the LR-HSI onto the "
                   "HR-MSI's (rasterio, bilinear) instead of refusing")
    p.add_argument("--camera", metavar="estimate|FILE",
                   help="the HR-MSI is a photograph: 'estimate' fits its camera from the pair (tone curve, gain and "
                   "black level, response, with --align its shift, with --estimate-blur the blur), or a camera "
                   "JSON saved by --camera-out; prints the fit's check and the result's pair-only scores against "
                   "bicubic. With --gt a camera file simulates the HR-MSI through that camera")
    p.add_argument("--camera-out", help="with --camera estimate: save the camera to this JSON (for train --camera)")
    p.add_argument("--curve", default="auto", choices=["auto", *CURVE_KINDS],
                   help="with --camera estimate: the tone curve to fit (auto: chosen on held-out pixels)")
    p.add_argument("--no-clip", action="store_true",
                   help="keep the network's raw output (default: clipped at 0, reflectance is not negative)")
    p.add_argument("--weights-out", help="also write INF3's neighbour weights (4, rows, cols: NW, NE, SW, SE; "
                   "each pixel's sum to 1) to this .npz / .hdr / .tif")
    p.add_argument("--save-model", metavar="FILE",
                   help="with --model pair: save the model fitted to the pair as a checkpoint (fuses again with "
                        "--model FILE, also other crops or tiles of the same scene)")
    p.add_argument("--expected-error-out",
                   help="with --model ensemble / paper:ensemble: also write the expected mean |error| over bands "
                   "(1, rows, cols; the cube's units), predicted from the schemes' disagreement, to this file")
    _add_common_args(p)
    p.set_defaults(func=cmd_fuse)


def _add_train_args(sub) -> None:
    """``train``: an INFN checkpoint from ground-truth scenes, optionally under torchrun (:func:`cmd_train`)."""
    p = sub.add_parser("train", help="train an INFN checkpoint on ground-truth scenes",
                       description="Train INFN on 64x64 patches simulated on the fly (L1 loss, Adam).")
    p.add_argument("scenes", nargs="+", help="training cubes, or folders that contain them")
    p.add_argument("--exclude", nargs="*", default=[], help="scene names to skip (e.g. your validation scene)")
    p.add_argument("--val", nargs="*", default=[], help="validation cubes (PSNR after every epoch)")
    p.add_argument("--out", required=True, help="checkpoint to write (rewritten after every epoch)")
    p.add_argument("--resume", help="continue from this checkpoint")
    p.add_argument("--init", metavar="MODEL",
                   help="fine-tune: start from this model's weights (pretrained name such as cosine or "
                        "paper:net, or a checkpoint); its weighting and preset are kept, optimiser and "
                        "schedule start afresh, the projection takes --srf")
    p.add_argument("--weighting", default="cosine", choices=["area", "net", "cosine", "cosine_norm"])
    p.add_argument("--preset", default="lite", choices=["lite", "paper"])
    p.add_argument("--consistency", default="srf", choices=["srf", "none"],
                   help="project the output onto what the HR-MSI sees through the SRF (srf, default) "
                   "or not (the paper)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--patches-per-epoch", type=int, default=None, help="default: the whole patch grid")
    p.add_argument("--batch-size", type=int, default=32,
                   help="global batch: under torchrun each of N processes takes 1/N of it")
    p.add_argument("--patch", type=int, default=64, help="GT patch side in pixels (default 64)")
    p.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (paper: 1e-4)")
    p.add_argument("--schedule", default="constant", choices=["constant", "cosine"])
    p.add_argument("--grad-clip", type=float, default=None, help="clip the gradient norm to this")
    p.add_argument("--max-minutes", type=float, default=None, help="stop (with a checkpoint) after this time")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"],
                   help="bf16: forward and loss under autocast (worth it on a GPU; weights stay float32)")
    p.add_argument("--srf", default="nikon_d700",
                   help="the HR-MSI camera's spectral response the training pairs are simulated with: a packaged "
                   "name (nikon_d700) or a CSV (header channel,<nm>,...; e.g. from fuse --srf estimate --srf-out)")
    p.add_argument("--camera", metavar="FILE",
                   help="a camera JSON (fuse --camera estimate --camera-out): training HR-MSIs are simulated "
                   "through it (its response, tone curve, clipping, 8-bit), e.g. to fine-tune --init cosine to it")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the training step: ~1 min to compile, then ~10 %% faster paper-preset steps "
                        "on a CPU (lite: no gain)")
    _add_ablation_args(p)
    _add_common_args(p)
    p.set_defaults(func=cmd_train)


def _add_ablation_args(p: argparse.ArgumentParser) -> None:
    """``train``'s advanced options: INFN's ablation switches, for a new network (:func:`_model_options`)."""
    g = p.add_argument_group("ablations (the paper's Tables 2, 3, 5)",
                             "train a variant of the network, e.g. to repeat the paper's ablations; a new network "
                             "only: --init and --resume keep their model's architecture")
    g.add_argument("--no-hr-injection", action="store_true",
                   help="leave the HR-domain injection S_pa(C_q) out of the MLP's input (eq. 13; Table 2)")
    g.add_argument("--no-lr-injection", action="store_true",
                   help="leave the LR-domain injection S_pa^D(C_i) out of the features F¹ (eq. 11; Table 2)")
    g.add_argument("--no-rel-coord", action="store_true",
                   help="leave the relative coordinate δc out of the MLP's input (eq. 14; Table 3); "
                   "INF³'s upsampler only")
    g.add_argument("--upsampler", default="inf3", choices=UPSAMPLERS,
                   help="inf3 (the paper's implicit function, default) or Table 5's alternatives: the LR feature "
                   "map upsampled bilinearly, bicubically or by a pixel shuffle (whose fixed ratio is --scale)")


def _add_demo_args(sub) -> None:
    """``demo``: the sample scene fused by the shipped checkpoints, in napari or as files (:func:`cmd_demo`)."""
    p = sub.add_parser("demo", help="the sample scene fused by the three shipped checkpoints",
                       description="With a display: napari opens with the sample scene, its fusions, error maps "
                       "and the spectrum inspector. Headless (no DISPLAY, or --headless): writes composites, error "
                       "maps, a spectra plot and the metrics table to --out.")
    p.add_argument("--headless", action="store_true", help="write files instead of opening napari")
    p.add_argument("--out", default=None,
                   help="output folder for --headless (default ./inf3-demo, or inf3-demo-2, ... if that is taken)")
    p.add_argument("--scene", default=None, help="a ground-truth cube to use instead of the sample")
    p.add_argument("--device", default="auto")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--offset", type=int, default=None, help="decimation offset 0..3 (default 2 = r // 2, the paper's)")
    p.set_defaults(func=cmd_demo)


def main(argv: list[str] | None = None) -> int:
    from ..data.cube import CubeError
    from ..models.checkpoint import CheckpointError

    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # the command's words (grid --jobs repeats them)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (CubeError, CheckpointError, FileNotFoundError, ValueError) as exc:
        print(f"napari-inf3: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("napari-inf3: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
