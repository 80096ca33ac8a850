"""The Training dock's "advanced: ablations" section: the paper's ablation switches for a new network.

Collapsed by default under a toggle; three check boxes (HR-domain injection, LR-domain injection, the
relative coordinate δc, all ticked: the full network) and the upsampler (INF³'s implicit function or
Table 5's bilinear / bicubic / pixel shuffle). :meth:`AblationSection.model_options` gives what
``TrainConfig.model_options`` gets: ``None`` for the full network, else only what differs from it.
"""

from __future__ import annotations

from typing import Any

from magicgui.widgets import CheckBox, ComboBox, Container
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QToolButton, QVBoxLayout, QWidget

#: upsampler entries, ``(label, INFN's upsampler value)``, in the order of napari_inf3.models.variants.UPSAMPLERS
UPSAMPLER_CHOICES = [("INF³ implicit function", "inf3"), ("bilinear", "bilinear"), ("bicubic", "bicubic"),
                     ("pixel shuffle", "pixelshuffle")]
TITLE = "advanced: ablations"
KEPT = "the model training starts from keeps its own architecture: these apply to a new network only"
NO_DELTA_C = "δc is part of INF³'s implicit function: the {} upsampler has no relative coordinate to leave out"


class AblationSection:
    """The section's widgets; :attr:`widget` is what the dock lays out, :attr:`fields` what it remembers."""

    def __init__(self) -> None:
        self.hr_injection = CheckBox(name="hr_injection", text="HR-domain injection", value=True,
                                     tooltip="S_pa(C_q), the HR spatial feature at the query pixel, in the MLP's "
                                     "input (eq. 13; the paper's Table 2)")
        self.lr_injection = CheckBox(name="lr_injection", text="LR-domain injection", value=True,
                                     tooltip="S_pa^D(C_i), the downsampled spatial feature, in F¹ beside the "
                                     "spectral feature (eq. 11; Table 2)")
        self.rel_coord = CheckBox(name="rel_coord", text="relative coordinate δc", value=True,
                                  tooltip="δc = C_q − C_i, where the query pixel lies inside its LR neighbour, "
                                  "in the MLP's input (eq. 14; Table 3)")
        self.upsampler = ComboBox(name="upsampler", label="upsampler", choices=UPSAMPLER_CHOICES,
                                  tooltip="how LR features reach the HR grid: INF³'s implicit function (four "
                                  "neighbours, weighted) or Table 5's fixed alternatives, followed by the same "
                                  "MLP; pixel shuffle's ratio is the dock's scale")
        self.fields = [self.hr_injection, self.lr_injection, self.rel_coord, self.upsampler]
        self._tooltips = {w.name: w.tooltip or "" for w in self.fields}
        self.form = Container(widgets=self.fields)
        self.toggle = QToolButton()
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setAutoRaise(True)
        self.toggle.toggled.connect(self.set_expanded)
        self.widget = QWidget()
        lay = QVBoxLayout(self.widget)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.toggle)
        lay.addWidget(self.form.native)
        self._applies = True
        for w in self.fields:
            w.changed.connect(self.refresh)
        self.set_expanded(False)
        self.refresh()

    # ---- state ---------------------------------------------------------------------------------
    @property
    def expanded(self) -> bool:
        return self.toggle.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        """Show or hide the check boxes (the toggle's arrow follows)."""
        if self.toggle.isChecked() != expanded:
            self.toggle.setChecked(expanded)  # comes back here through toggled
            return
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.form.native.setVisible(expanded)

    def set_applies(self, applies: bool) -> None:
        """Enable the switches for a new network; disable them (and say why) when training starts from a model."""
        self._applies = applies
        self.refresh()

    def refresh(self, *_: Any) -> None:
        """Enable what can be changed; δc only with INF³ (ticked otherwise); the toggle names the variant."""
        inf3 = self.upsampler.value == "inf3"
        if not inf3 and not self.rel_coord.value:
            self.rel_coord.value = True  # comes back here through changed
            return
        for w in self.fields:
            w.enabled = self._applies and (inf3 or w is not self.rel_coord)
            w.tooltip = self._tooltips[w.name] + ("" if w.enabled else f"\n\n{self._why_disabled()}")
        variant = self.variant()
        self.toggle.setText(TITLE + ("" if variant == "full" or not self._applies else f" (training {variant})"))
        self.toggle.setToolTip("the paper's ablation switches (Tables 2, 3, 5): train a variant of INFN"
                               + ("" if self._applies else f"\n\n{KEPT}"))

    def _why_disabled(self) -> str:
        return KEPT if not self._applies else NO_DELTA_C.format(self.upsampler.native.currentText())

    # ---- what the engine gets -------------------------------------------------------------------
    def options(self, scale: int) -> dict[str, Any]:
        """The switches as INFN keywords that differ from the full network (``{}`` for it);
        ``scale`` is pixel shuffle's fixed ratio."""
        from ..models.variants import ablation_options

        return ablation_options(hr_injection=self.hr_injection.value, lr_injection=self.lr_injection.value,
                                rel_coord=self.rel_coord.value, upsampler=self.upsampler.value, scale=scale)

    def model_options(self, scale: int) -> dict[str, Any] | None:
        """``TrainConfig.model_options``: ``None`` for the full network or when the switches do not apply."""
        return (self.options(scale) or None) if self._applies else None

    def variant(self) -> str:
        """``'full'`` or the chosen ablations in words (the model's own wording, :mod:`napari_inf3.models.variants`)."""
        from ..models.variants import describe_variant

        return describe_variant(self.options(4))
