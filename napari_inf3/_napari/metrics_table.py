"""The Fusion dock's metrics table: scores against the ground truth, or a real pair's pair-only scores;
copied as tab-separated text or exported as CSV."""

from __future__ import annotations

from qtpy.QtWidgets import QApplication, QTableWidget, QTableWidgetItem

from ._common import output_path

COLUMNS = ["method", "PSNR (dB)", "SAM (°)", "ERGAS", "SSIM"]


class MetricsTable(QTableWidget):
    def __init__(self):
        super().__init__(0, len(COLUMNS))
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setMinimumHeight(150)

    def fill(self, run) -> None:
        """One row per method of ``run``: its scores with a GT; a real pair's pair-only scores (bicubic
        first, :func:`.real_pair.fill_pair_table`); left empty when there are neither."""
        from ..evaluation.metrics import METRICS

        self.setRowCount(0)
        if not run.scores:
            if run.pair_scores:  # a real pair: what can be measured on the pair itself, bicubic included
                from .real_pair import fill_pair_table

                fill_pair_table(self, run)
            return
        self.setColumnCount(len(COLUMNS))
        self.setHorizontalHeaderLabels(COLUMNS)
        for name, s in run.scores.items():
            r = self.rowCount()
            self.insertRow(r)
            self.setItem(r, 0, QTableWidgetItem(name))
            for c, k in enumerate(METRICS, start=1):  # SSIM comes a moment after the layers ("…" until then)
                text = "…" if k not in s else f"{s[k]:.4f}" if k == "ssim" else f"{s[k]:.3f}"
                self.setItem(r, c, QTableWidgetItem(text))
        self.resizeColumnsToContents()

    def text(self, sep: str = "\t") -> str:
        def cell(item) -> str:
            return "" if item is None else item.text()

        columns = range(self.columnCount())
        rows = [sep.join(cell(self.horizontalHeaderItem(c)) for c in columns)]
        rows += [sep.join(cell(self.item(r, c)) for c in columns) for r in range(self.rowCount())]
        return "\n".join(rows) + "\n"

    def copy(self) -> None:
        board = QApplication.clipboard()
        if board is not None:
            board.setText(self.text())

    def export_csv(self, path: str | None = None) -> str | None:
        """Write the table as CSV to ``path`` (asking before replacing a file), or where a save dialog
        says; returns the path, or None when declined."""
        path = output_path(self, path, "Export metrics", "metrics.csv", "CSV (*.csv)")
        if path is None:
            return None
        from ..io.atomic import atomic_write_text  # atomic: a failure leaves an existing file as it was

        atomic_write_text(path, self.text(sep=","))
        return path
