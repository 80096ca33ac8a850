"""A matplotlib canvas for docks that follows napari's theme (QtAgg through qtpy)."""

from __future__ import annotations

from typing import Literal

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg, NavigationToolbar2QT
from matplotlib.figure import Figure
from qtpy.QtWidgets import QVBoxLayout, QWidget


class ThemedCanvas(QWidget):
    """A Figure + toolbar whose colours follow ``viewer.theme`` (re-styled on every draw)."""

    def __init__(self, viewer=None, parent=None, figsize=(5, 3.2), toolbar: bool = True,
                 layout: Literal["constrained", "compressed", "tight"] | None = "constrained"):
        super().__init__(parent)
        self.viewer = viewer
        self.figure = Figure(figsize=figsize, layout=layout)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(260)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        if toolbar:
            box.addWidget(NavigationToolbar2QT(self.canvas, self))
        box.addWidget(self.canvas)
        if viewer is not None:
            viewer.events.theme.connect(lambda e: self.draw())

    def colors(self) -> dict[str, str]:
        """``{'face', 'axes', 'text', 'grid'}`` hex colours of the current napari theme."""
        if self.viewer is None:
            return {"face": "#ffffff", "axes": "#ffffff", "text": "#000000", "grid": "#cccccc"}
        from napari.utils.theme import get_theme

        t = get_theme(self.viewer.theme)
        return {"face": t.background.as_hex(),
                "axes": t.canvas.as_hex() if t.type == "light" else t.foreground.as_hex(),
                "text": t.text.as_hex(), "grid": t.highlight.as_hex()}

    def style(self) -> None:
        c = self.colors()
        self.figure.set_facecolor(c["face"])
        for ax in self.figure.axes:
            ax.set_facecolor(c["axes"])
            ax.tick_params(colors=c["text"], which="both")
            for spine in ax.spines.values():
                spine.set_color(c["text"])
            ax.xaxis.label.set_color(c["text"])
            ax.yaxis.label.set_color(c["text"])
            ax.title.set_color(c["text"])
            legend = ax.get_legend()
            if legend is not None:
                legend.get_frame().set_facecolor(c["face"])
                legend.get_frame().set_edgecolor(c["grid"])
                for txt in legend.get_texts():
                    txt.set_color(c["text"])

    def blank(self) -> None:
        """Fill the picture on screen with the figure's face colour alone (the figure itself is unchanged): a plot
        drawn ahead of need stays out of sight until something is blitted onto it."""
        renderer = self.canvas.get_renderer()
        renderer.clear()
        self.figure.patch.draw(renderer)

    def draw(self) -> None:
        self.style()
        self.canvas.draw_idle()
