"""What each kind of model takes and gives: one table that manifests are checked against.

A new kind of model is one member of :class:`ModelKind`, one row of :data:`KIND_SIGNATURES`
and one small runner class built on :class:`restorer_app.engine.strategy.ModelRunner`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .errors import ModelSignatureError


class ModelKind(enum.Enum):
    INPAINT = "inpaint"
    DETECT = "detect"
    RESTORE = "restore"
    GENERATE = "generate"
    TEXT_ENCODER = "text-encoder"


#: The input that carries a description's embedding; a model has it exactly when its manifest
#: gives ``text_embedding_size``.
TEXT_INPUT = "text"


@dataclass(frozen=True)
class KindSignature:
    """The tensor names a kind of model must and may have (their types and shapes are the
    manifest's, and the registry compares those with the model file)."""

    #: As a sentence says it: "an inpainting model".
    described: str
    required_inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    optional_inputs: tuple[str, ...] = ()
    optional_outputs: tuple[str, ...] = ()

    def accepts(self, inputs: set[str], outputs: set[str]) -> bool:
        return (set(self.required_inputs) <= inputs <= set(self.required_inputs + self.optional_inputs)
                and set(self.outputs) <= outputs <= set(self.outputs + self.optional_outputs))

    def sentence(self) -> str:
        """What the kind needs, e.g. "inputs image, mask (and optionally text) and output output"."""
        def names(required, optional):
            text = ", ".join(required)
            return text + (f" (and optionally {', '.join(optional)})" if optional else "")

        ins, outs = names(self.required_inputs, self.optional_inputs), names(self.outputs, self.optional_outputs)
        plural = "s" if len(self.outputs) + len(self.optional_outputs) > 1 else ""
        return f"inputs {ins} and output{plural} {outs}"


KIND_SIGNATURES: dict[ModelKind, KindSignature] = {
    # image and mask as NCHW in [0, 1]; output: the filled image.
    ModelKind.INPAINT: KindSignature("an inpainting model", ("image", "mask"), ("output",), (TEXT_INPUT,)),
    # damage: per-pixel probability (N x 1 x H x W); classes: optional per-class logits.
    ModelKind.DETECT: KindSignature("a damage detection model", ("image",), ("damage",),
                                    optional_outputs=("classes",)),
    # strength: per pixel, how much noise, JPEG blocking and blur there is to remove (N x 3 x H x W
    # in [0, 1]; a model with one channel takes one overall strength); levels: the model's own
    # estimate of those three from the image alone (N x 3 x 1 x 1), what ``auto`` uses; tone (a
    # vector of the photo's per-channel quantiles) and curves (N x 6 x 1 x 1): the colour step's
    # per-channel gain and offset (see restorer_app.engine.restoration), given together.
    ModelKind.RESTORE: KindSignature("a photo restoration model", ("image", "strength"), ("output",),
                                     optional_inputs=("tone",), optional_outputs=("levels", "curves")),
    # latent: the code that picks one of the possible fills (variations).
    ModelKind.GENERATE: KindSignature("a generative fill model", ("image", "mask", "latent"), ("output",),
                                      (TEXT_INPUT,)),
    ModelKind.TEXT_ENCODER: KindSignature("a text encoder", ("input_ids", "attention_mask"), ("embedding",)),
}


def check_kind_signature(entry) -> None:
    """Raise :class:`ModelSignatureError` unless ``entry``'s inputs and outputs are those its
    kind takes and gives (a :class:`~restorer_app.engine.registry.ModelEntry`)."""
    signature = KIND_SIGNATURES[entry.kind]
    inputs = {spec.name for spec in entry.inputs}
    outputs = {spec.name for spec in entry.outputs}
    if not signature.accepts(inputs, outputs):
        raise ModelSignatureError(
            f"Model '{entry.id}' is not {signature.described} Restorer can run: its manifest lists inputs "
            f"{sorted(inputs)} and outputs {sorted(outputs)}, but a {entry.kind.value} model has "
            f"{signature.sentence()}."
        )
    if TEXT_INPUT in signature.optional_inputs and (TEXT_INPUT in inputs) != (entry.text_embedding_size is not None):
        has = "has" if TEXT_INPUT in inputs else "has no"
        gives = "gives no" if entry.text_embedding_size is None else "gives a"
        raise ModelSignatureError(
            f"Model '{entry.id}' {has} input '{TEXT_INPUT}' but its manifest {gives} text_embedding_size; "
            "the two go together."
        )
