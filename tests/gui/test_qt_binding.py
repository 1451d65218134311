"""Guards against Qt binding releases with reference-counting bugs we have been bitten by."""

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    ping = Signal()
    value = Signal(float, str)


def test_emitting_signals_does_not_drain_references_to_true_and_false():
    # PySide6 6.12.0 dropped one reference to True per emit(); on Python 3.11 the
    # interpreter aborts ("deallocating True or False") once the count reaches zero.
    emitter = _Emitter()
    emitter.ping.connect(lambda: None)
    emitter.value.connect(lambda fraction, message: None)
    before = sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(500):
        emitter.ping.emit()
        emitter.value.emit(0.5, "half")
    after = sys.getrefcount(True), sys.getrefcount(False)
    assert abs(after[0] - before[0]) < 50 and abs(after[1] - before[1]) < 50
