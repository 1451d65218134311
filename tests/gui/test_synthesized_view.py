"""View ▸ Show Synthesized Pixels tints what accepted fills made up, and follows undo."""

from __future__ import annotations

import numpy as np

from gui_helpers import fill_and_accept


def test_the_synthesized_view_shows_the_accepted_fills_pixels(qtbot, opened):
    mask = opened.editor.document.mask.copy()
    fill_and_accept(qtbot, opened)
    assert opened.canvas.synthesized_shown is None  # off by default
    opened.actions_.show_synthesized.trigger()
    shown = opened.canvas.synthesized_shown
    assert shown is not None and np.array_equal(shown > 0, mask > 0)
    opened.editor.undo_stack.undo()
    assert not opened.canvas.synthesized_shown.any()
    opened.editor.undo_stack.redo()
    assert np.array_equal(opened.canvas.synthesized_shown > 0, mask > 0)
    opened.actions_.show_synthesized.trigger()
    assert opened.canvas.synthesized_shown is None
