"""Every command of the window as a QAction, with its shortcut, icon and tip.

Menus, the toolbar and the tool panel all show these same actions, so a shortcut is
shown wherever the command is, and enabling an action enables every button for it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack

from . import icons


def _action(parent: QObject, text: str, shortcuts=(), *, icon: str | None = None, tip: str = "",
            checkable: bool = False) -> QAction:
    action = QAction(text, parent)
    keys: list[QKeySequence] = []
    for shortcut in shortcuts:
        for key in (QKeySequence.keyBindings(shortcut) if isinstance(shortcut, QKeySequence.StandardKey)
                    else [QKeySequence(shortcut)]):
            if key not in keys:  # a key bound twice to one action would be "ambiguous" and do nothing
                keys.append(key)
    if keys:
        action.setShortcuts(keys)
    if icon:
        action.setIcon(icons.icon(icon))
    if tip or keys:
        shown = keys[0].toString(QKeySequence.SequenceFormat.NativeText) if keys else ""
        action.setToolTip(f"{tip or text.replace('…', '')}  ({shown})" if shown else tip)
        action.setStatusTip(tip)
    action.setCheckable(checkable)
    return action


class WindowActions:
    """The window's actions, grouped by menu."""

    def __init__(self, parent: QObject) -> None:
        a = lambda *args, **kw: _action(parent, *args, **kw)  # noqa: E731 - keeps the table readable
        # File
        self.open = a("&Open…", [QKeySequence.StandardKey.Open], icon="open", tip="Open a photograph or a project")
        self.open_project = a("Open &Project…", ["Ctrl+Alt+O"],
                              tip="Reopen a saved project with its mask and undo history")
        self.open_sample = a("Open &Sample Photo", tip="Open the bundled damaged portrait with its mask")
        self.save = a("&Save", [QKeySequence.StandardKey.Save], icon="save",
                      tip="Save the restored photograph (never over the original)")
        self.save_as = a("Save &As…", ["Ctrl+Shift+S"], tip="Save the restored photograph under a new name")
        self.save_project = a("Save Pro&ject…", ["Ctrl+Alt+S"],
                              tip="Save the mask and every accepted fill, with undo history, to continue later")
        self.export_synthesized = a("Also Export Synthesized-Pixels &Mask",
                                    tip="With each saved photograph, also write a PNG beside it (name.synthesized.png) "
                                        "that is white wherever a fill created the pixels", checkable=True)
        self.batch = a("&Batch…", ["Ctrl+B"], tip="Restore, repair or fill a whole folder of photos into another "
                                                  "folder, with a results list; a rerun skips what is done")
        self.quit = a("&Quit", ["Ctrl+Q"], tip="Quit Restorer")
        # Edit
        self.undo = a("&Undo", [QKeySequence.StandardKey.Undo], icon="undo", tip="Undo")
        self.redo = a("&Redo", ["Ctrl+Shift+Z", QKeySequence.StandardKey.Redo], icon="redo", tip="Redo")
        # Mask tools
        self.brush = a("&Brush", ["B"], icon="brush", tip="Paint over damage to mark it for filling",
                       checkable=True)
        self.eraser = a("&Eraser", ["E"], icon="eraser", tip="Remove marking from the mask", checkable=True)
        self.heal = a("Spot &Healing Brush", ["J"], icon="fill", checkable=True,
                      tip="Click a speck or paint over a short scratch: it is filled as soon as you let go")
        self.lasso = a("&Lasso", ["L"], icon="lasso", checkable=True,
                       tip="Outline a torn area to mark it: drag freehand, or click corner by corner and "
                           "double-click to close; hold Alt as it closes to take the area out of the mask")
        self.keep_out = a("&Keep Out of Copying", ["K"], icon="keep-out", checkable=True,
                          tip="Paint over what must never be copied into a fill, such as a face or lettering "
                              "beside a hole (shown in violet); hold Alt to erase it")
        self.clear_keep_out = a("Clear Kept-Out Area", tip="Let fills copy texture from the whole photo again")
        self.keep_out.setIconText("Keep out")
        self.clear_keep_out.setIconText("Clear area")
        self.tools = QActionGroup(parent)
        for tool in (self.brush, self.eraser, self.lasso, self.heal, self.keep_out):
            self.tools.addAction(tool)
        self.brush.setChecked(True)
        self.size_down = a("Smaller Brush", ["["], tip="Make the brush smaller")
        self.size_up = a("Larger Brush", ["]"], tip="Make the brush larger")
        self.mask_grow = a("&Grow Mask", tip="Widen the marked area by the given number of pixels")
        self.mask_shrink = a("&Shrink Mask", tip="Narrow the marked area by the given number of pixels")
        self.mask_clear = a("&Clear Mask", ["Ctrl+Shift+Backspace"], tip="Remove all marking")
        self.mask_invert = a("&Invert Mask", ["Ctrl+I"], tip="Mark everything that is not marked, and vice versa")
        self.mask_load = a("&Load Mask…", tip="Replace the mask with a mask image of the same size")
        self.mask_save = a("Save Mask &As…", tip="Save the mask as a PNG (white = fill)")
        self.show_mask = a("Show &Mask", ["M"], tip="Show or hide the mask overlay", checkable=True)
        self.show_mask.setChecked(True)
        self.show_synthesized = a("Show S&ynthesized Pixels", ["Shift+M"], checkable=True,
                                  tip="Tint amber every pixel that an accepted fill or heal made up")
        # Restore
        self.restore = a("Restore &Photo", ["Ctrl+Shift+R"],
                         tip="Denoise, remove JPEG blocks, sharpen and correct fading over the whole photo, "
                             "with the Restore step's settings, for review")
        self.cancel_restore = a("Cancel Res&tore", ["Esc"], icon="cancel", tip="Stop restoring the photo")
        self.preview_restore = a("Pre&view Restore", ["P"], checkable=True,
                                 tip="Show the restore on the visible part of the photo beside the photo as it is")
        self.restore.setIconText("Restore")
        self.preview_restore.setIconText("Preview of the visible part")
        # Detect
        self.detect = a("&Detect Damage", ["Ctrl+D"],
                        tip="Find scratches, dust, creases and tears and propose them as a mask (shown in cyan)")
        self.cancel_detect = a("Cancel &Detection", ["Esc"], icon="cancel", tip="Stop looking for damage")
        self.repair = a("&Repair Detected Damage", ["Ctrl+R"], icon="fill",
                        tip="Fill the detected damage and the painted strokes with the chosen method")
        self.clear_proposal = a("Clear Detected Damage", tip="Remove the proposed mask (painted strokes stay)")
        self.repair.setIconText("Repair")  # the Detect step's buttons; the menu says it in full
        self.clear_proposal.setIconText("Clear")
        # Repair
        self.fill = a("&Fill", ["Ctrl+Return", "F"], icon="fill", tip="Fill the marked damage")
        self.cancel_fill = a("&Cancel Fill", ["Esc"], icon="cancel", tip="Stop the running fill")
        self.accept = a("&Accept Fill", ["Return", "Enter"], icon="accept", tip="Keep the filled result")
        self.discard = a("&Discard Fill", ["Esc"], icon="discard", tip="Throw the filled result away")
        self.variation_prev = a("&Previous Variation", ["Left", "Alt+Left"],
                                tip="Review the previous of the fill's variations")
        self.variation_next = a("&Next Variation", ["Right", "Alt+Right"],
                                tip="Review the next of the fill's variations")
        self.extend_canvas = a("E&xtend Canvas…", tip="Add margins around the photo and generate what continues it "
                                                       "there; saved as a new file")
        # View
        self.split = a("&Split Before/After", ["Y"], icon="split",
                       tip="Compare before (left) and after (right) with a draggable divider", checkable=True)
        self.zoom_fit = a("&Fit to Window", ["Ctrl+0"], icon="fit", tip="Show the whole photograph")
        self.zoom_actual = a("&Actual Pixels (100 %)", ["Ctrl+1"], icon="actual-size",
                             tip="One photo pixel per screen pixel")
        self.show_navigator = a("Show &Navigator", ["N"], checkable=True,
                                tip="While zoomed in, show the whole photo in the corner with the part in view; "
                                    "click or drag in it to move the view")
        self.show_navigator.setChecked(True)
        self.zoom_in = a("Zoom &In", [QKeySequence.StandardKey.ZoomIn, "Ctrl+="], tip="Zoom in")
        self.zoom_out = a("Zoom &Out", [QKeySequence.StandardKey.ZoomOut], tip="Zoom out")

    def enable_for(self, *, has_document: bool, filling: bool, reviewing: bool, undo_stack: QUndoStack,
                   detecting: bool = False, has_proposal: bool = False, restoring: bool = False) -> bool:
        """Enable what can be done now; True when the photo can be edited (a document that
        is neither being filled, searched for damage or restored, nor under review). ``filling``
        is true for any job; ``detecting`` and ``restoring`` say which it is."""
        editing = has_document and not filling and not reviewing
        stack = undo_stack
        self.undo.setEnabled(editing and stack.canUndo())
        self.redo.setEnabled(editing and stack.canRedo())
        self.undo.setText(f"&Undo {stack.undoText()}" if stack.canUndo() else "&Undo")
        self.redo.setText(f"&Redo {stack.redoText()}" if stack.canRedo() else "&Redo")
        for action in (self.save, self.save_as, self.save_project, self.mask_grow, self.mask_shrink,
                       self.mask_clear, self.mask_invert, self.mask_load, self.fill, self.extend_canvas,
                       self.clear_keep_out):
            action.setEnabled(editing)
        for action in (self.mask_save, self.split, self.zoom_fit, self.zoom_actual, self.zoom_in, self.zoom_out,
                       self.show_mask, self.show_synthesized, self.show_navigator, self.brush, self.eraser,
                       self.lasso, self.heal, self.keep_out, self.size_down, self.size_up):
            action.setEnabled(has_document)
        self.cancel_fill.setEnabled(filling and not detecting and not restoring)
        self.cancel_restore.setEnabled(restoring)
        self.restore.setEnabled(editing)
        self.preview_restore.setEnabled(editing)
        self.cancel_detect.setEnabled(detecting)
        self.detect.setEnabled(editing)
        self.repair.setEnabled(editing and has_proposal)
        self.clear_proposal.setEnabled(editing and has_proposal)
        self.accept.setEnabled(reviewing)
        self.discard.setEnabled(reviewing)
        self.variation_prev.setEnabled(False)  # the window enables them while variations are shown
        self.variation_next.setEnabled(False)
        return editing
