"""Typed errors. Each carries one sentence a user can act on (``str(error)``)."""

from __future__ import annotations


class RestorerError(Exception):
    """Base of every error the engine raises on purpose."""


class ImageReadError(RestorerError):
    """The file is missing, unreadable, truncated or empty."""


class UnsupportedImageError(RestorerError):
    """The file is an image, but of a kind Restorer does not handle."""


class ImageTooLargeError(RestorerError):
    """The image has more pixels than the configured limit."""


class ImageWriteError(RestorerError):
    """The output could not be written (or would have overwritten the original)."""


class MaskError(RestorerError):
    """The mask cannot be used with this image."""


class ModelError(RestorerError):
    """Base of problems with a model file or its manifest entry."""


class ModelMissingError(ModelError):
    """The manifest names a model whose file is not there, or the id is unknown."""


class ModelCorruptError(ModelError):
    """The model file does not match its recorded checksum or cannot be parsed."""


class ModelSignatureError(ModelError):
    """The model's inputs or outputs differ from what its manifest entry promises."""


class DeviceUnavailableError(RestorerError):
    """The requested compute device cannot be used."""


class PrivacyError(RestorerError):
    """Running would break the promise that nothing leaves the machine."""


class OutOfMemoryError(RestorerError):
    """The device ran out of memory; the message says what to try instead."""


class OperationCancelled(RestorerError):
    """The user cancelled a long job. Not a failure: callers usually report it quietly."""

    def __init__(self, message: str = "The operation was cancelled.") -> None:
        super().__init__(message)
