"""The Fusion dock's real-pair views: the camera fitted from the pair (tone curve beside the response) or
the response alone, in a panel that saves either; the pair-only scores in the metrics table, and the
gate's findings. (The camera's residual map is a layer: :func:`.layers.camera_layer_data`.)"""

from __future__ import annotations

import numpy as np
from qtpy.QtWidgets import QVBoxLayout, QWidget

from ._common import button_row, output_path
from .canvas import ThemedCanvas

PAIR_COLUMNS = ["method", "LR-HSI (dB)", "HR-MSI (dB)", "Δ bicubic", "verdict"]
#: What the pair-only columns mean (the table's header tooltips).
PAIR_TIPS = ["", "the result blurred and decimated back, against the LR-HSI (PSNR; no ground truth needed)",
             "the result seen through the camera, against the linearised HR-MSI (PSNR; exact for an SRF projection)",
             "LR-HSI column minus bicubic's: below 0 the result explains the LR-HSI worse than not fusing", ""]


def fitted_camera(run):
    """The run's camera when one was fitted or loaded (not the linear stand-in of a plain response)."""
    cam = getattr(run, "camera", None)
    return cam if cam is not None and cam.candidates else None  # CameraFit.linear stand-ins have none


def _band_wavelengths(bands: int, *candidates) -> np.ndarray | None:
    """The first of ``candidates`` with one value per band, else the packaged 400–700 nm for 31 bands."""
    from ..data.simulation import srf_wavelengths

    for wl in candidates:
        if wl is not None and len(wl) == bands:
            return np.asarray(wl, float)
    return srf_wavelengths() if bands == 31 else None


def plot_camera(figure, camera, wavelengths=None) -> None:
    """Two panels on ``figure``: the tone curve (stored value → linear, per channel) and the response
    in nm beside the Nikon D700's (signed responses cross zero), each channel's held-out residual."""
    from ..data.simulation import load_srf
    from ..viz.plots import plot_srf

    figure.clear()
    ax_curve, ax_srf = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
    gains = " / ".join(f"{g:.2f}" for g in camera.gain)
    y = np.linspace(0.0, 1.0, 256, dtype=np.float32)
    s = camera.srf.shape[0]
    lin = camera.linearize(np.broadcast_to(y, (s, 1, y.size)))[:, 0]
    colors = ["tab:red", "tab:green", "tab:blue"] if s == 3 else [None] * s
    for c in range(s):
        ax_curve.plot(y, lin[c], color=colors[c], lw=1.2, label=camera.channel_names[c])
    ax_curve.set_xlabel("stored value", fontsize=7)
    ax_curve.set_ylabel("linear (P·X)", fontsize=7)
    ax_curve.set_title(f"{camera.curve.describe()}, gain {gains}", fontsize=6)
    ax_curve.tick_params(labelsize=6)
    bands = camera.srf.shape[1]
    wl = _band_wavelengths(bands, wavelengths, camera.wavelengths)
    ref = load_srf("nikon_d700") if bands == 31 and s == 3 else None
    plot_srf(ax_srf, camera.srf, wl if wl is not None else np.arange(bands), reference=ref, residual=camera.residual)
    ax_srf.axhline(0.0, color="0.5", lw=0.5)
    # below the axes: inside, the legend hid the curves (seen in a screenshot of the dock); the canvas's
    # constrained layout makes room for it
    ax_srf.legend(fontsize=5, loc="upper center", bbox_to_anchor=(0.5, -0.32), ncol=2, frameon=False)
    ax_srf.tick_params(labelsize=6)
    ax_srf.set_xlabel(ax_srf.get_xlabel(), fontsize=7)
    ax_srf.set_ylabel(ax_srf.get_ylabel(), fontsize=7)
    ax_srf.set_title(f"{'signed' if camera.signed else 'non-negative'} response, blur σ {camera.sigma:.2f} HR px",
                     fontsize=7)


def plot_response_fit(figure, fit, wavelengths=None) -> np.ndarray:
    """A response estimated from the pair beside the Nikon D700's, in nm, with the fit residual; returns
    the wavelengths it is saved with (band numbers when unknown)."""
    from ..data.simulation import load_srf
    from ..viz.plots import plot_srf

    bands = fit.srf.shape[1]
    wl = _band_wavelengths(bands, wavelengths)
    figure.clear()
    ax = figure.subplots()
    ref = load_srf("nikon_d700") if bands == 31 and fit.srf.shape[0] == 3 else None
    plot_srf(ax, fit.srf, wl if wl is not None else np.arange(bands), reference=ref, residual=fit.residual)
    if wl is None:
        ax.set_xlabel("band")
    ax.set_title(f"HR-MSI response from the pair (blur σ {fit.sigma:.2f} HR px)", fontsize=8)
    return wl if wl is not None else np.arange(bands, dtype=float)


def fill_pair_table(table, run) -> None:
    """The pair-only scores (no ground truth) in the metrics table, bicubic first; a result that
    reproduces the LR-HSI worse than bicubic reads 'worse than bicubic?'."""
    from qtpy.QtWidgets import QTableWidgetItem

    table.setRowCount(0)
    table.setColumnCount(len(PAIR_COLUMNS))
    table.setHorizontalHeaderLabels(PAIR_COLUMNS)
    for c, tip in enumerate(PAIR_TIPS):
        table.horizontalHeaderItem(c).setToolTip(tip)
    from ..viz.figures import pair_rows

    for cells in pair_rows(run.pair_scores):
        r = table.rowCount()
        table.insertRow(r)
        for c, text in enumerate(cells):
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeColumnsToContents()


def findings_text(run) -> tuple[str, str]:
    """The gate's findings as ``(short, full)``: two lines at most for the status (a long paragraph there
    squeezed the dock's form, seen in a screenshot) and every finding in words for its tooltip."""
    bad = [f for f in getattr(run, "findings", []) if f.level != "ok"]
    if not bad:
        return "", ""
    names = list(run.camera.channel_names) if getattr(run, "camera", None) is not None else []
    misfit = sorted((f.subject for f in bad if f.kind == "misfit"),
                    key=lambda n: names.index(n) if n in names else len(names))  # channel order, not worst first
    worse = [f.subject for f in bad if f.kind == "worse"]
    short = []
    storage = getattr(getattr(run, "camera", None), "jpeg", None)
    if any(f.kind == "storage" for f in bad) and storage is not None:  # what the JPEG costs, in one line
        from ..camera.jpeg import estimated_loss

        short.append(f"stored as {storage.describe()}: expect ≈ {estimated_loss(storage)[0]:.1f} dB below a "
                     "lossless photo")
    if misfit:
        short.append(f"POOR camera fit (channel {', '.join(misfit)} misfit): try 'estimate the camera (a photo)'")
    if worse:
        short.append(f"POOR: {', '.join(worse)} explain{'s' if len(worse) == 1 else ''} the LR-HSI worse than bicubic "
                     "(see the table)")
    if not short:
        short.append(f"{bad[0].level.upper()}: {bad[0].message[:90]}…")
    return "\n".join(short), "\n\n".join(f"{f.level.upper()}: {f.message}" for f in bad)


class FitPanel(QWidget):
    """The camera or response fitted from the last real pair, plotted (``canvas``), and the button that
    saves it (``button``): a camera as JSON, for fusing later pairs of the same cameras or fine-tuning a
    model to it in the Training dock; a response as a CSV (the Training dock's "spectral response" from
    file). Hidden until something was fitted."""

    def __init__(self, viewer, parent=None):
        super().__init__(parent)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        self.canvas = ThemedCanvas(viewer, self, figsize=(4, 2.4), toolbar=False)
        v.addWidget(self.canvas)
        row, (self.button,) = button_row(("Save response as CSV…", lambda: self.save()))
        v.addLayout(row)
        self.fit, self.wavelengths = None, None  # a response estimated from the pair, and its CSV's wavelengths
        self.camera = None  # a camera fitted from (or loaded for) the last real pair
        self.setVisible(False)

    def show_fit(self, run) -> None:
        """Plot ``run``'s camera (tone curve and response) or its response beside the Nikon D700's, in nm,
        with the fit residual; hide the panel when the run fitted neither."""
        self.fit, self.camera = run.srf_fit, fitted_camera(run)
        self.setVisible(self.fit is not None or self.camera is not None)
        self.button.setText("Save camera as JSON…" if self.camera is not None else "Save response as CSV…")
        if self.camera is not None:
            plot_camera(self.canvas.figure, self.camera, run.wavelengths)
        elif self.fit is not None:
            self.wavelengths = plot_response_fit(self.canvas.figure, self.fit, run.wavelengths)
        else:
            return
        self.canvas.draw()

    def save(self, path=None):
        """Write the camera as JSON, else the response as a CSV (the layout ``load_srf`` reads). Without
        ``path`` a save dialog asks (it confirms a replacement itself); with one, an existing file is
        replaced only after a question. Returns the path written, or None (errors are shown)."""
        from napari.utils.notifications import show_error, show_info

        from ..data.cube import CubeError
        from ..data.simulation import write_srf_csv

        if self.camera is not None:
            path = output_path(self, path, "Save the camera", "hr_msi_camera.json", "camera JSON (*.json)")
            if path is None:
                return None
            try:
                out = self.camera.save(path, overwrite=True)  # output_path asked already
            except CubeError as exc:
                show_error(str(exc))
                return None
            show_info(f"camera saved to {out}")
            return out
        if self.fit is None:
            show_error("no response has been estimated yet: fuse a real pair with 'estimate from the pair'")
            return None
        path = output_path(self, path, "Save the estimated response", "hr_msi_response.csv", "CSV (*.csv)")
        if path is None:
            return None
        try:
            out = write_srf_csv(self.fit.srf, path, self.wavelengths)
        except OSError as exc:
            show_error(f"{path}: cannot write the response: {exc}")
            return None
        show_info(f"response saved to {out}")
        return out
