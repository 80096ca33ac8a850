"""``napari-inf3 fuse``: one pair (simulated from a ground truth, or a real LR-HSI + HR-MSI, georeferenced or not)
fused by one model into a file; the pair's preparation (camera, response, alignment) and its checks printed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._common import add_common_args, progress_bar_for


def cmd_fuse(args) -> int:
    import numpy as np

    from ..data.cube import Cube, CubeError
    from ..evaluation.metrics import evaluate
    from ..io import write_cube

    out = Path(args.out)
    if args.expected_error_out and "ensemble" not in str(args.model):
        raise CubeError("--expected-error-out needs --model ensemble or paper:ensemble (the map comes from the "
                        "three schemes' disagreement)")
    # every file the command may write (the camera only when it fits or loads one)
    for dest in (out, args.weights_out, args.srf_out, args.expected_error_out, args.save_model,
                 args.camera_out if args.camera else None):
        if dest and Path(dest).exists() and not args.overwrite:
            raise CubeError("already exists; pass --overwrite to replace it", dest)
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
    if job.check_camera is not None:
        _print_pair_check(job.lr, job.msi, job.check_camera, result.cube, str(args.model),
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
    #: ``srf`` is the user's (named, the simulation's, or estimated on request), not the default estimate for a
    #: sensor the shipped networks do not know (a fit to the pair then fits its own)
    srf_asked: bool = False
    #: what the result's pair-only check reads the HR-MSI with: the photo's camera, or a real pair's linear one
    check_camera: Any = None


def _fuse_inputs(args) -> _FuseJob:
    """``--gt`` (simulated ×``--scale``) or ``--lr-hsi`` + ``--hr-msi``; then ``--camera`` / ``--srf`` /
    ``--align`` applied by the one pair preparation (:func:`napari_inf3.fusion.prepare.prepare_real_pair`),
    what it estimated printed."""
    from ..data.cube import CubeError
    from ..fusion.prepare import prepare_real_pair

    if args.camera and args.srf is not None:
        raise CubeError("--camera carries its own response: leave out --srf")
    if args.gt:
        lr, msi, wl, gt, srf, camera = _simulated_inputs(args)
        if camera is None and args.srf != "estimate" and not args.align:
            return _FuseJob(lr, msi, wl, gt, srf, srf_asked=True)  # simulated through a known response
        aligned, storage = None, None
    elif args.lr_hsi and args.hr_msi:
        lr, msi, wl, aligned, storage = _read_inputs(args)
        gt, camera = None, args.camera
        srf = args.srf
    else:
        raise CubeError("give either --gt (simulate the pair) or both --lr-hsi and --hr-msi")
    pair = _real_pair(args, lr, msi, wl, camera, srf, aligned, storage)
    prep = prepare_real_pair(pair)
    _print_preparation(args, pair, prep)
    if prep.camera_pair:  # the camera carries its response
        return _FuseJob(pair.lr_hsi, prep.hr_msi, wl, gt, None, prep.camera, aligned=aligned, check_camera=prep.camera)
    return _FuseJob(pair.lr_hsi, prep.hr_msi, wl, gt, prep.srf, None, aligned=aligned, srf_asked=prep.srf_asked,
                    check_camera=None if gt is not None else prep.camera)


def _simulated_inputs(args):
    """``--gt``: the pair simulated through ``--srf`` (a name or CSV; the Nikon D700 by default) or through a
    ``--camera`` file (its stored values: a JPEG camera compresses with its tables). ``(lr, msi, wavelengths,
    gt, response told to the fusion, camera)``."""
    from ..camera import CameraFit
    from ..data.cube import CubeError
    from ..data.simulation import load_srf, simulate
    from ..io import read_cube

    if args.camera == "estimate":
        raise CubeError("--camera estimate fits a real pair's camera; with --gt give a camera file to simulate "
                        "the HR-MSI through")
    gt = read_cube(args.gt)
    named = None if args.srf in (None, "estimate") else args.srf
    # the simulation's response: a name or CSV on the cube's band centres when it has them
    made_with = load_srf(named or "nikon_d700", bands=gt.bands, wavelengths=gt.wavelengths)
    lr, msi = simulate(gt, args.scale, made_with, crop=args.crop, offset=args.offset)
    camera = None
    if args.camera:
        camera = CameraFit.load(args.camera)
        msi = camera.store(msi)
    # what the fusion is told: only a response the user named (or asked to estimate)
    told = made_with if named is not None else args.srf
    return lr, msi, gt.wavelengths, gt, told, camera


def _read_inputs(args):
    """``--lr-hsi`` + ``--hr-msi`` read; two georeferenced files cut to their common footprint (said).
    ``(lr, msi, wavelengths, AlignedPair or None, a JPEG photo's storage or None)``."""
    from ..io import read_cube

    lr_c, msi_c = read_cube(args.lr_hsi), read_cube(args.hr_msi)
    lr, msi, aligned = lr_c.data, msi_c.data, None
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
    return lr, msi, lr_c.wavelengths, aligned, msi_c.meta.get("jpeg")


def _real_pair(args, lr, msi, wl, camera, srf, aligned, storage):
    """The :class:`~napari_inf3.fusion.types.RealPair` the command's options describe."""
    from ..camera.jpeg import JpegStorage
    from ..fusion.types import RealPair

    return RealPair(lr, msi, wl, camera=camera, pair_srf=srf, align=args.align,
                    msi_storage=None if storage is None else JpegStorage.from_dict(storage),
                    valid=None if aligned is None else aligned.valid, curve=args.curve,
                    estimate_blur=args.estimate_blur, offset=args.offset)


def _print_preparation(args, pair, prep) -> None:
    """What the preparation estimated or loaded, said (and saved: ``--camera-out``, ``--srf-out``)."""
    import numpy as np

    from ..camera import check_fit
    from ..data.simulation import srf_wavelengths, write_srf_csv

    for note in prep.notes:
        print(f"note: {note}")
    if prep.camera_pair:
        camera = prep.camera
        print(f"estimated camera: {camera.describe()}" if args.camera == "estimate"
              else f"camera {args.camera}: {camera.describe()}")
        if args.camera == "estimate" and args.camera_out:
            print(f"wrote {camera.save(args.camera_out, overwrite=args.overwrite)}")
        for finding in check_fit(camera):
            print(f"camera fit {finding}" if finding.level == "ok" else f"{finding.level.upper()}: {finding.message}")
        return
    if prep.shift is not None:
        print(f"HR-MSI shift (dy, dx) = ({prep.shift[0]:+.2f}, {prep.shift[1]:+.2f}) HR pixels; aligned")
    fit = prep.srf_fit
    if fit is not None and fit.srf is not None and prep.srf is fit.srf:
        print(f"estimated spectral response ({fit.srf.shape[0]} × {fit.srf.shape[1]}), blur σ {fit.sigma:.2f} HR px, "
              "fit residual " + ", ".join(f"{r:.2%}" for r in fit.residual))
        if args.srf_out:
            wl = pair.wavelengths
            nm = wl if wl is not None and len(wl) == fit.srf.shape[1] else srf_wavelengths()
            print(f"wrote {write_srf_csv(fit.srf, args.srf_out, np.asarray(nm))}")


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

    bar = progress_bar_for(1, "fuse", "tile")

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

    bar = progress_bar_for(100, "fit to the pair", "%")

    def tick(done, total):
        bar.n = done
        bar.refresh()

    from ..pair import fit_pair

    srf = job.srf if job.camera is None and job.srf_asked else None
    model = fit_pair(job.lr, job.msi, srf=srf, camera=job.camera,
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


def _print_pair_check(lr, msi, camera, fused, name: str, valid=None) -> None:
    """What can be said without ground truth: each result degraded back against the LR-HSI, bicubic's too
    (a georeferenced pair's nodata pixels, ``valid`` False, left out). The fit's own findings were printed with
    the camera (:func:`_print_preparation`): only a result below bicubic is added here."""
    from ..camera import check_results, pair_report

    scores, _ = pair_report(lr, msi, camera, {name: fused}, valid=valid)
    print("pair-only check (no ground truth; higher is better): " + ";  ".join(
        f"{k}: LR-HSI reproduced {v['lr_psnr']:.2f} dB, HR-MSI {v['msi_psnr']:.2f} dB" for k, v in scores.items()))
    for finding in check_results(scores):
        print(f"{finding.level.upper()}: {finding.message}")


def add_fuse_args(sub) -> None:
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
    add_common_args(p)
    p.set_defaults(func=cmd_fuse)
