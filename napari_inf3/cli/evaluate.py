"""``napari-inf3 evaluate``: fuse scenes with models and score them (tables in the paper's layout, spectra)."""

from __future__ import annotations

from pathlib import Path

from ._common import add_common_args, progress_bar_for


def cmd_evaluate(args) -> int:
    from ..evaluation.report import evaluate_scenes, write_report
    from ..io import scene_paths

    scenes = scene_paths(args.scenes, args.exclude)
    models = {m if not Path(m).exists() else Path(m).stem: m for m in args.models}
    if args.plot_pixel and not args.out_dir:
        raise ValueError("--plot-pixel writes a PNG: give --out-dir too")
    bar = progress_bar_for(len(scenes) * (1 + len(models)), "evaluate", "fusion")
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


def add_evaluate_args(sub) -> None:
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
    add_common_args(p)
    p.set_defaults(func=cmd_evaluate)
