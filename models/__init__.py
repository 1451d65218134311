"""Restorer's training package: data, masks, captions, networks, training, export, evaluation.

PyTorch lives here only. The application (``restorer_app``) never imports this package; the
one-way link is that :mod:`models.export` writes ONNX files and manifest entries into
``resources/models`` and :mod:`models.evaluate` runs them through the app's own engine.
"""

# Switches off ONNX Runtime's telemetry before evaluation or export can import it (offline.py).
import restorer_app  # noqa: E402,F401
