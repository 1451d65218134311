"""The menu bar and toolbar, laid out from the window's actions."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QToolBar

from .actions import WindowActions
from .operations import DETECT, REPAIR, RESTORE, Step


def step_actions(a: WindowActions, step: Step) -> list[list[QAction]]:
    """The commands of one step of the work, in groups; a step without commands has none."""
    if step is REPAIR:
        return [[a.fill, a.cancel_fill], [a.accept, a.discard], [a.variation_prev, a.variation_next],
                [a.extend_canvas]]
    if step is RESTORE:
        return [[a.preview_restore, a.restore, a.cancel_restore]]
    if step is DETECT:
        return [[a.detect, a.cancel_detect], [a.repair, a.clear_proposal]]
    return []


def build_menus(window: QMainWindow, a: WindowActions, steps: Sequence[Step], docks: Sequence[QDockWidget],
                about) -> QMenu:
    """Fill the window's menu bar (the Repair menu in the order of work, like the panel);
    returns the (empty) Open Recent menu for the window to fill."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(a.open)
    file_menu.addAction(a.open_project)
    recent_menu = file_menu.addMenu("Open &Recent")
    file_menu.addAction(a.open_sample)
    file_menu.addSeparator()
    file_menu.addActions([a.save, a.save_as, a.save_project])
    file_menu.addSeparator()
    file_menu.addAction(a.export_synthesized)
    file_menu.addSeparator()
    file_menu.addAction(a.batch)
    file_menu.addSeparator()
    file_menu.addAction(a.quit)

    edit_menu = bar.addMenu("&Edit")
    edit_menu.addActions([a.undo, a.redo])
    edit_menu.addSeparator()
    edit_menu.addActions([a.brush, a.eraser, a.lasso, a.heal, a.keep_out, a.size_down, a.size_up])

    mask_menu = bar.addMenu("&Mask")
    mask_menu.addActions([a.mask_grow, a.mask_shrink, a.mask_clear, a.mask_invert])
    mask_menu.addAction(a.clear_keep_out)
    mask_menu.addSeparator()
    mask_menu.addAction(a.show_mask)
    mask_menu.addSeparator()
    mask_menu.addActions([a.mask_load, a.mask_save])

    repair_menu = bar.addMenu("&Repair")
    groups = [group for step in steps for group in step_actions(a, step)]
    for index, group in enumerate(groups):
        if index:
            repair_menu.addSeparator()
        repair_menu.addActions(group)

    view_menu = bar.addMenu("&View")
    view_menu.addActions([a.zoom_fit, a.zoom_actual, a.zoom_in, a.zoom_out])
    view_menu.addSeparator()
    view_menu.addAction(a.split)
    view_menu.addAction(a.show_synthesized)
    view_menu.addAction(a.show_navigator)
    hold_hint = view_menu.addAction("Hold \\ to Show Before")
    hold_hint.setEnabled(False)  # a held key cannot be a menu command; the menu still says where it is
    view_menu.addSeparator()
    for dock in docks:
        view_menu.addAction(dock.toggleViewAction())

    help_menu = bar.addMenu("&Help")
    help_menu.addAction("&About Restorer", about)
    return recent_menu


def build_toolbar(window: QMainWindow, a: WindowActions) -> QToolBar:
    toolbar = QToolBar("Main")
    toolbar.setObjectName("mainToolbar")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for action, short in ((a.open, "Open"), (a.save, "Save"), (a.undo, "Undo"), (a.redo, "Redo"),
                          (a.fill, "Fill"), (a.accept, "Accept"), (a.discard, "Discard"),
                          (a.split, "Split"), (a.zoom_fit, "Fit"), (a.zoom_actual, "100 %"),
                          (a.brush, "Brush"), (a.eraser, "Eraser")):
        action.setIconText(short)
    groups = ([a.open, a.save], [a.undo, a.redo], [a.brush, a.eraser], [a.fill, a.accept, a.discard],
              [a.split, a.zoom_fit, a.zoom_actual])
    for index, group in enumerate(groups):
        if index:
            toolbar.addSeparator()
        toolbar.addActions(group)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
    return toolbar
