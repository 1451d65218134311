"""The status bar's permanent fields: size, depth, zoom, mask coverage, device."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from restorer_app.engine.imageio import RasterImage

_CHANNELS = {1: "Gray", 2: "Gray + alpha", 3: "RGB", 4: "RGBA"}
def image_description(image: RasterImage) -> tuple[str, str]:
    """('4000 × 3000 px', '16-bit RGB')."""
    depth = f"{image.pixels.dtype.itemsize * 8}-bit {_CHANNELS.get(image.pixels.shape[2], '')}".strip()
    return f"{image.width} × {image.height} px", depth


class StatusFields:
    """Permanent labels on the right of a QStatusBar; transient messages stay on the left."""

    def __init__(self, bar: QStatusBar) -> None:
        self.size = self._field(bar, "Image size")
        self.depth = self._field(bar, "Bit depth and channels")
        self.zoom = self._field(bar, "Zoom")
        self.coverage = self._field(bar, "Share of the photo marked for filling")
        self.device = self._field(bar, "Where fills run: expected before the first fill, actual after it")
        self._fallback = False  # a job found no usable NVIDIA GPU where CUDA was wanted

    @staticmethod
    def _field(bar: QStatusBar, tip: str) -> QLabel:
        label = QLabel()
        label.setObjectName("statusField")
        label.setToolTip(tip)
        bar.addPermanentWidget(label)
        return label

    def show_image(self, image: RasterImage | None) -> None:
        size, depth = image_description(image) if image is not None else ("No photo", "")
        self.size.setText(size)
        self.depth.setText(depth)
        self.depth.setVisible(bool(depth))

    def show_zoom(self, zoom: float | None) -> None:
        self.zoom.setVisible(zoom is not None)
        if zoom is not None:
            self.zoom.setText(f"{zoom * 100:.0f} %" if zoom >= 0.1 else f"{zoom * 100:.1f} %")

    def show_coverage(self, fraction: float | None) -> None:
        self.coverage.setVisible(fraction is not None)
        if fraction is not None:
            percent = fraction * 100
            self.coverage.setText(f"Mask {percent:.1f} %" if percent == 0 or percent >= 0.1 else "Mask < 0.1 %")

    def show_device(self, label: str, *, expected: bool, fallback: bool = False) -> None:
        """``fallback``: CUDA was wanted but no usable NVIDIA GPU was found (said here for as
        long as it holds, while the notice bar says it once)."""
        text = f"Expected device: {label}" if expected else f"Device: {label}"
        if fallback:
            self._fallback = True
        if self._fallback and "CPU" in label:
            text += " · no usable NVIDIA GPU"
        self.device.setText(text)

