"""Where the Spectrum inspector's plot goes in its figure: the legend under the axes, where it can never cover a
curve, in as many columns as the figure's width holds, and the axes' margins around it, in pixels (the dock may
be ~350 px wide or much wider). Done once per new plot or resize, never per click. Pure matplotlib, no Qt.
"""

from __future__ import annotations

import numpy as np
from matplotlib.font_manager import FontProperties

#: The legend's font size (pt) and look: no frame (it is outside the axes), compact keys and rows.
LEGEND_FONTSIZE = 7.5
LEGEND_STYLE = {"frameon": False, "handlelength": 1.5, "handletextpad": 0.5, "columnspacing": 1.6,
                "labelspacing": 0.3, "borderpad": 0.2, "borderaxespad": 0.0}
#: Margins in pixels at 100 dpi (scaled with the figure's dpi: a high-density screen doubles it): left (y tick
#: labels and 'reflectance'), right, top (the title), the x axis under the axes (ticks, tick labels,
#: 'wavelength (nm)'), and the gap under the legend.
LEFT_PX, RIGHT_PX, TOP_PX, XAXIS_PX, BOTTOM_GAP_PX = 52, 8, 24, 46, 3
#: The least room (px at 100 dpi) between the y axis' label and the figure's left edge.
EDGE_PX = 2
#: The axes keep at least this height (px at 100 dpi) however many rows the legend takes.
MIN_AXES_PX = 60
#: Room between the axes of the row (the zoom window, the weights), as a fraction of their mean width.
WSPACE = 0.32


def legend_columns(text_widths: list[float], width_px: float, fontsize_px: float) -> int:
    """The most columns (up to one per entry) whose legend fits in ``width_px``: entries are split into columns
    as matplotlib does (``np.array_split``, first columns one longer), each as wide as its widest label plus the
    key; a SAM value one digit longer than now (a later click) still fits the column spacing."""
    n = len(text_widths)
    key = (LEGEND_STYLE["handlelength"] + LEGEND_STYLE["handletextpad"]) * fontsize_px
    spacing = LEGEND_STYLE["columnspacing"] * fontsize_px
    pad = 2 * LEGEND_STYLE["borderpad"] * fontsize_px
    for ncol in range(n, 1, -1):
        columns = [c for c in np.array_split(np.asarray(text_widths, float), ncol) if len(c)]
        if sum(float(c.max()) + key for c in columns) + spacing * (len(columns) - 1) + pad <= width_px:
            return ncol
    return 1


def legend_below(fig, ax, handles: list, labels: list[str], renderer):
    """``ax``'s legend (``handles``/``labels``) centred under the figure's row of axes, and the subplots' margins
    that leave it, the x axis and the y axis (its tick labels at the limits ``ax`` has now) room. Returns the legend
    (its texts are new artists)."""
    width, height, px = fig.bbox.width, fig.bbox.height, fig.dpi / 100
    fontsize_px = LEGEND_FONTSIZE * fig.dpi / 72
    font = FontProperties(size=LEGEND_FONTSIZE)
    widths = [renderer.get_text_width_height_descent(label, font, ismath=False)[0] for label in labels]
    ncol = legend_columns(widths, width - 4 * px, fontsize_px)
    legend = ax.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, BOTTOM_GAP_PX * px / height),
                       bbox_transform=fig.transFigure, ncol=ncol, fontsize=LEGEND_FONTSIZE, **LEGEND_STYLE)
    legend_px = legend.get_window_extent(renderer).height if labels else 0.0
    top = 1 - TOP_PX * px / height
    bottom = min(((BOTTOM_GAP_PX + XAXIS_PX) * px + legend_px) / height, top - MIN_AXES_PX * px / height)
    fig.subplots_adjust(left=LEFT_PX * px / width, right=1 - RIGHT_PX * px / width, bottom=max(bottom, 0.0),
                        top=top, wspace=WSPACE)
    # wider y tick labels than LEFT_PX allows for ('0.75', '0.025', counts): the margin grows until the labels and
    # 'reflectance' clear the figure's edge (the axis' box reads the limits as they are now: set them first)
    overflow = EDGE_PX * px - ax.yaxis.get_tightbbox(renderer).x0
    if overflow > 0:
        fig.subplots_adjust(left=min((LEFT_PX * px + overflow) / width, 0.5))
    return legend
