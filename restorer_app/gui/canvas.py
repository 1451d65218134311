"""The canvas: photo layers, mask overlay and brush in a QGraphicsView.

Layers, bottom to top: 'before' image, 'after' image (clipped to the right of the divider
in split view, hidden while the compare key is held), detected damage, painted mask, divider,
brush cursor.
CanvasLayers decides what 'before' and 'after' are. The canvas never edits the mask itself;
it reports strokes in image coordinates and repaints the boxes it is told changed.

One view with its input handling (zoom about the cursor, pan, strokes, the split divider,
the compare key) reads best in one file; it is a little over 400 lines for that reason.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPen, QTransform, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsItem, QGraphicsRectItem, QGraphicsScene, QGraphicsView

from restorer_app.engine.regions import Box

from .canvas_items import (BrushCursorItem, MaskOverlayItem, RasterItem, SplitDividerItem, box_rect,
                           draw_photo_backdrop, draw_tag)
from .display import DisplayBuffer
from .lasso_tool import LassoTool
from .navigator import Navigator

CANVAS_BACKGROUND = QColor(38, 38, 40)
MASK_COLOUR = QColor(255, 45, 85, 125)
#: Detected damage is cyan, so what the detector proposed never looks like what was painted.
PROPOSAL_COLOUR = QColor(0, 210, 255, 130)
#: Pixels that accepted fills made up (View ▸ Show Synthesized Pixels): amber, apart from the
#: red of the mask and the cyan of detected damage.
SYNTHESIZED_COLOUR = QColor(255, 190, 0, 140)
#: The area kept out of copying (source control): violet, apart from every mask colour offered.
NO_SOURCE_COLOUR = QColor(120, 70, 255, 110)
#: The pixels of the step selected in the History panel: green, unlike every other overlay.
HIGHLIGHT_COLOUR = QColor(60, 255, 120, 150)
MIN_ZOOM, MAX_ZOOM = 0.01, 32.0
_FIT_PADDING = 24  # screen pixels around a fitted photo
_DIVIDER_GRAB = 10  # screen pixels either side of the divider that pick it up
_LASSO_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape, Qt.Key.Key_Backspace)


class CanvasView(QGraphicsView):
    #: x, y in photo pixels, and whether Shift was held (a straight line from the last stroke's end).
    stroke_started = Signal(float, float, bool)
    stroke_moved = Signal(float, float)
    stroke_finished = Signal()
    zoom_changed = Signal(float)
    split_moved = Signal(float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        # 'Before' is drawn only while comparing (split or held): otherwise 'after' covers it
        # and drawing it would double the cost of every repaint.
        self._before_clip = QGraphicsRectItem()
        self._before_clip.setPen(QPen(Qt.PenStyle.NoPen))
        self._before_clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self._before = RasterItem(self._before_clip)
        self._after_clip = QGraphicsRectItem()
        self._after_clip.setPen(QPen(Qt.PenStyle.NoPen))
        self._after_clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self._after = RasterItem(self._after_clip)
        self._proposal = MaskOverlayItem(PROPOSAL_COLOUR)
        self._overlay = MaskOverlayItem(MASK_COLOUR)
        self._no_source = MaskOverlayItem(NO_SOURCE_COLOUR)
        self._synthesized = MaskOverlayItem(SYNTHESIZED_COLOUR)
        self._synthesized.hide()
        self._highlight = MaskOverlayItem(HIGHLIGHT_COLOUR)
        self._highlight.hide()
        self._divider = SplitDividerItem()
        self._cursor = BrushCursorItem()
        self.lasso = LassoTool(self)
        # Outlines the part of the photo a preview restored when that is not all of the view.
        self._preview_frame = QGraphicsRectItem()
        frame_pen = QPen(QColor(255, 255, 255, 200), 1, Qt.PenStyle.DashLine)
        frame_pen.setCosmetic(True)
        self._preview_frame.setPen(frame_pen)
        self._preview_frame.hide()
        for z, item in enumerate((self._before_clip, self._after_clip, self._no_source, self._proposal, self._overlay,
                                  self._synthesized, self._highlight, self._preview_frame, self.lasso.item,
                                  self._divider, self._cursor)):
            item.setZValue(z)
            self.scene().addItem(item)
        self._divider.hide()
        self._cursor.hide()

        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(CANVAS_BACKGROUND)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(True)
        self.viewport().setAcceptDrops(False)  # drops go to the window, which opens them

        self._painting_enabled = True
        self._lasso_mode = False
        self._stroking = False
        self._panning = False
        self._pan_last = QPointF()
        self._space_held = False
        self._dragging_divider = False
        self._fit_mode = True
        self._split = False
        self._split_fraction = 0.5
        self._before_held = False
        self._has_alpha = False
        self._brush_diameter = 20.0
        self._after_tag = "After"
        self.navigator = Navigator(self)

    # ------------------------------------------------------------------ content

    @property
    def has_image(self) -> bool:
        return self._after.display is not None

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height) of the photo shown."""
        return self._after.display.size if self._after.display is not None else (0, 0)

    def set_images(self, before: DisplayBuffer, after: DisplayBuffer, *, has_alpha: bool = False,
                   fit: bool = True) -> None:
        """Show a new photo ('before' under 'after'); both must have the same size."""
        self.set_before(before)
        self.set_after(after)
        self._has_alpha = has_alpha
        width, height = after.size
        self.scene().setSceneRect(QRectF(0, 0, width, height))
        self._divider.set_height(height)
        self._update_split_geometry()
        if fit:
            self.fit()

    def set_before(self, display: DisplayBuffer) -> None:
        self._before.set_display(display)

    def set_after(self, display: DisplayBuffer) -> None:
        self._after.set_display(display)
        self._update_split_geometry()
        self.navigator.follow()

    @property
    def after_display(self) -> DisplayBuffer | None:
        """What the 'after' layer shows (the navigator's overview)."""
        return self._after.display

    def clear(self) -> None:
        self._before.set_display(None)
        self._after.set_display(None)
        self._overlay.set_mask(None)
        self._proposal.set_mask(None)
        self._no_source.set_mask(None)
        self.scene().setSceneRect(QRectF())
        self.navigator.follow()
        self.viewport().update()

    def refresh_box(self, box: Box) -> None:
        """Repaint photo pixels of ``box`` after they changed in place."""
        rect = box_rect(box)
        self._before.update(rect)
        self._after.update(rect)
        if self.navigator.isVisible():
            self.navigator.update()

    def set_mask(self, mask: np.ndarray | None) -> None:
        self._overlay.set_mask(mask)

    def set_no_source(self, area: np.ndarray | None) -> None:
        """The area kept out of copying (viewed, like the mask, not copied)."""
        self._no_source.set_mask(area)

    def refresh_no_source(self, box: Box) -> None:
        self._no_source.update_box(box)

    @property
    def no_source_shown(self) -> np.ndarray | None:
        return self._no_source.mask if self._no_source.isVisible() else None

    def set_mask_colour(self, colour: QColor) -> None:
        """The painted mask's colour, with its alpha as the overlay's opacity."""
        self._overlay.set_colour(colour)

    @property
    def mask_colour(self) -> QColor:
        return self._overlay.colour

    def refresh_mask(self, box: Box) -> None:
        self._overlay.update_box(box)

    def set_mask_visible(self, visible: bool) -> None:
        self._overlay.setVisible(visible)
        self._proposal.setVisible(visible)
        self._no_source.setVisible(visible)

    def set_synthesized(self, mask: np.ndarray | None) -> None:
        """Tint ``mask``'s pixels (the synthesized ones) amber; None hides the tint."""
        self._synthesized.set_mask(mask)
        self._synthesized.setVisible(mask is not None)

    def set_highlight(self, mask: np.ndarray | None) -> None:
        """Tint ``mask``'s pixels green (the History panel's selected step); None: no tint."""
        self._highlight.set_mask(mask)
        self._highlight.setVisible(mask is not None)

    @property
    def highlighted(self) -> np.ndarray | None:
        return self._highlight.mask if self._highlight.isVisible() else None

    def show_box(self, box: Box) -> None:
        """Scroll (not zoom) so that ``box`` of the photo is in view, if it fits."""
        self.ensureVisible(box_rect(box), 40, 40)

    @property
    def synthesized_shown(self) -> np.ndarray | None:
        return self._synthesized.mask if self._synthesized.isVisible() else None

    def set_proposal(self, mask: np.ndarray | None) -> None:
        """The detected damage's mask (viewed, like the painted one, not copied)."""
        self._proposal.set_mask(mask)

    def refresh_proposal(self, box: Box | None) -> None:
        """Repaint the detected damage inside ``box`` (None: all of it) after it changed."""
        if box is None:
            self._proposal.set_mask(self._proposal.mask)
        else:
            self._proposal.update_box(box)

    @property
    def mask_visible(self) -> bool:
        return self._overlay.isVisible()

    # ------------------------------------------------------------------- compare

    def hold_before(self, held: bool) -> None:
        """Show only the 'before' layer while the compare key is held."""
        self._before_held = held
        self._after_clip.setVisible(not held)
        self._update_split_geometry()
        self.viewport().update()

    def set_preview_frame(self, box: Box | None) -> None:
        """Outline ``box`` of the photo (None: no outline)."""
        if box is not None:
            self._preview_frame.setRect(box_rect(box))
        self._preview_frame.setVisible(box is not None)

    def set_after_tag(self, text: str) -> None:
        """What the split view calls the right side ("After", or "Preview" while previewing)."""
        self._after_tag = text
        self.viewport().update()

    @property
    def showing_before(self) -> bool:
        return self._before_held

    def set_split(self, enabled: bool) -> None:
        self._split = enabled
        self._divider.setVisible(enabled and self.has_image)
        self._update_split_geometry()
        self._update_viewport_cursor()
        self.viewport().update()

    @property
    def split(self) -> bool:
        return self._split

    @property
    def split_fraction(self) -> float:
        """Where the divider is across the part of the photo in view (0 = its left edge)."""
        return self._split_fraction

    @property
    def split_x(self) -> int:
        """The photo column the divider stands at: 'before' is left of it."""
        return round(self._divider_x())

    def visible_photo(self) -> QRectF:
        """The part of the photo in view, in photo pixels (all of it when none is)."""
        width, height = self.image_size
        photo = QRectF(0, 0, width, height)
        visible = self.mapToScene(self.viewport().rect()).boundingRect().intersected(photo)
        return visible if visible.width() > 0 and visible.height() > 0 else photo

    def _divider_x(self) -> float:
        # The divider keeps its place in the view, not on the photo: zoomed in or scrolled,
        # it stays on screen, at the same share of the photo that is in view.
        if not self._split:
            return 0.0
        visible = self.visible_photo()
        return visible.left() + visible.width() * self._split_fraction

    def set_split_fraction(self, fraction: float) -> None:
        self._split_fraction = min(max(float(fraction), 0.0), 1.0)
        self._update_split_geometry()
        self.split_moved.emit(self._split_fraction)
        self.viewport().update()

    def _update_split_geometry(self) -> None:
        width, height = self.image_size
        x = self._divider_x()
        self._after_clip.setRect(QRectF(x, 0, width - x, height))
        self._before_clip.setRect(QRectF(0, 0, width if self._before_held else x, height))
        self._before_clip.setVisible(self._before_held or self._split)
        self._divider.setPos(x, 0)
        if self._split and self.has_image:
            self._divider.set_handle_y(self.visible_photo().center().y())

    # ------------------------------------------------------------------- brush

    def set_brush_diameter(self, diameter: float) -> None:
        self._brush_diameter = float(diameter)
        self._cursor.set_diameter(diameter)
        self._update_viewport_cursor()

    def set_lasso_mode(self, on: bool) -> None:
        """The left button draws lasso outlines (lasso_tool.py) instead of brush strokes."""
        if not on:
            self.lasso.cancel()
        self._lasso_mode = on
        self._cursor.setVisible(self._cursor.isVisible() and not on)
        self._update_viewport_cursor()

    def set_painting_enabled(self, enabled: bool) -> None:
        if not enabled:
            self.lasso.cancel()
        if not enabled and self._stroking:
            self._end_stroke()
        self._painting_enabled = enabled
        self._cursor.setVisible(enabled and self._cursor.isVisible())
        self._update_viewport_cursor()

    # -------------------------------------------------------------------- zoom

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        """Zoom so the whole photo shows, and keep fitting when the window resizes."""
        width, height = self.image_size
        if not width or not height:
            return
        view = self.viewport().size()
        zoom = min((view.width() - 2 * _FIT_PADDING) / width, (view.height() - 2 * _FIT_PADDING) / height)
        self._apply_zoom(zoom, None)
        self.centerOn(width / 2, height / 2)
        self._fit_mode = True

    def zoom_actual(self) -> None:
        """100 %: one photo pixel per screen pixel, keeping the view centre."""
        self.set_zoom(1.0)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the scene point under ``anchor`` (viewport coords; centre if None) fixed."""
        self._fit_mode = False
        self._apply_zoom(zoom, anchor)

    def _apply_zoom(self, zoom: float, anchor: QPointF | None) -> None:
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        scene_point = self._to_scene(anchor)
        self.setTransform(QTransform.fromScale(zoom, zoom))
        moved = self.viewportTransform().map(scene_point) - anchor
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + round(moved.x()))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + round(moved.y()))
        # Zoomed in, restorers inspect single pixels: show them crisp, not blurred.
        for item in (self._before, self._after):
            item.smooth = zoom < 1.0
        self._cursor.set_zoom(zoom)
        self._divider.set_zoom(zoom)
        self._update_split_geometry()
        self.navigator.follow()
        self._update_viewport_cursor()
        self.viewport().update()
        self.zoom_changed.emit(zoom)

    def _to_scene(self, viewport_point: QPointF) -> QPointF:
        inverse, _ = self.viewportTransform().inverted()
        return inverse.map(viewport_point)

    # ------------------------------------------------------------------ events

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not self.has_image:
            return
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.set_zoom(self.zoom * (1.25 ** steps), event.position())
        event.accept()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()
        elif self._split:
            self._update_split_geometry()
        self.navigator.follow()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        if self._split:
            self._update_split_geometry()  # the divider stays where it is in the view
        self.navigator.follow()
        self.viewport().update()  # the before/after tags are fixed to the viewport

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space_held):
            self._panning = True
            self._pan_last = pos
        elif button == Qt.MouseButton.LeftButton and self._split and (
                self._near_divider(pos) or not self._painting_enabled):
            self._dragging_divider = True
            self._drag_divider_to(pos)
        elif button == Qt.MouseButton.LeftButton and self._lasso_mode and self._painting_enabled and self.has_image:
            self.lasso.press(self._to_scene(pos), pos, self.zoom, event.modifiers())
        elif button == Qt.MouseButton.LeftButton and self._painting_enabled and self.has_image:
            self._stroking = True
            point = self._to_scene(pos)
            straight = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.stroke_started.emit(point.x(), point.y(), straight)
        else:
            super().mousePressEvent(event)
            return
        self._update_viewport_cursor()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        point = self._to_scene(pos)
        self._cursor.setPos(point)
        if self._painting_enabled and self.has_image and not self._cursor.isVisible() and not self._lasso_mode:
            self._cursor.show()
        if self._panning:
            delta = pos - self._pan_last
            self._pan_last = pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
        elif self._dragging_divider:
            self._drag_divider_to(pos)
        elif self._stroking:
            self.stroke_moved.emit(point.x(), point.y())
        elif self._lasso_mode and self.lasso.active:
            self.lasso.move(point, pos)
        self._update_viewport_cursor(pos)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._panning and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._panning = False
        elif self._dragging_divider and event.button() == Qt.MouseButton.LeftButton:
            self._dragging_divider = False
        elif self._stroking and event.button() == Qt.MouseButton.LeftButton:
            self._end_stroke()
        elif self._lasso_mode and self.lasso.active and event.button() == Qt.MouseButton.LeftButton:
            self.lasso.release(event.modifiers())
        else:
            super().mouseReleaseEvent(event)
        self._update_viewport_cursor(event.position())
        event.accept()

    def _end_stroke(self) -> None:
        self._stroking = False
        self.stroke_finished.emit()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._lasso_mode and self.lasso.active and event.button() == Qt.MouseButton.LeftButton:
            self.lasso.double_click(event.modifiers())
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def event(self, event) -> bool:
        # While an outline is drawn, Enter, Esc and Backspace are the lasso's, not the window's.
        if event.type() == QEvent.Type.ShortcutOverride and self.lasso.active and event.key() in _LASSO_KEYS:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._lasso_mode and self.lasso.key(event.key(), event.modifiers()):
            event.accept()
            return
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_held = True
                self._update_viewport_cursor()
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_held = False
                self._panning = False
                self._update_viewport_cursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        self._space_held = False  # a release we never saw must not leave panning stuck on
        super().focusOutEvent(event)

    def enterEvent(self, event) -> None:
        self._cursor.setPos(self._to_scene(event.position()))
        self._cursor.setVisible(self._painting_enabled and self.has_image and not self._lasso_mode)
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:
        self._cursor.hide()
        super().leaveEvent(event)

    # ------------------------------------------------------------------ helpers

    def _near_divider(self, pos: QPointF) -> bool:
        divider_x = self.viewportTransform().map(self._divider.pos()).x()
        return abs(pos.x() - divider_x) <= _DIVIDER_GRAB

    def _drag_divider_to(self, pos: QPointF) -> None:
        if self.has_image:
            visible = self.visible_photo()
            self.set_split_fraction((self._to_scene(pos).x() - visible.left()) / visible.width())

    def _update_viewport_cursor(self, pos: QPointF | None = None) -> None:
        shape = Qt.CursorShape.ArrowCursor
        if self._panning:
            shape = Qt.CursorShape.ClosedHandCursor
        elif self._space_held:
            shape = Qt.CursorShape.OpenHandCursor
        elif self._dragging_divider or (self._split and (
                not self._painting_enabled or (pos is not None and self._near_divider(pos)))):
            shape = Qt.CursorShape.SplitHCursor
        elif self._painting_enabled and self.has_image and self._lasso_mode:
            shape = Qt.CursorShape.CrossCursor
            self._cursor.hide()
        elif self._painting_enabled and self.has_image:
            # The ring is the cursor; a tiny brush keeps the crosshair so it stays findable.
            big = self._brush_diameter * self.zoom >= 10
            shape = Qt.CursorShape.BlankCursor if big else Qt.CursorShape.CrossCursor
        brush_visible = shape in (Qt.CursorShape.BlankCursor, Qt.CursorShape.CrossCursor)
        if not brush_visible:
            self._cursor.hide()
        self.viewport().setCursor(shape)

    # ---------------------------------------------------------------- drawing

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawBackground(painter, rect)
        if not self.has_image:
            return
        width, height = self.image_size
        image_rect = QRectF(0, 0, width, height)
        painter.save()
        device_rect = self.viewportTransform().mapRect(image_rect)
        painter.resetTransform()
        draw_photo_backdrop(painter, device_rect, has_alpha=self._has_alpha)
        painter.restore()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        painter.save()
        painter.resetTransform()
        if not self.has_image:
            painter.setPen(QColor(150, 150, 155))
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 1.25)
            painter.setFont(font)
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter,
                             "Open a photograph (Ctrl+O) or drop one here\n"
                             "To try Restorer, choose File ▸ Open Sample Photo")
        else:
            # Tags sit just inside the photo's top edge (or the view's, when scrolled past it).
            photo = self.viewportTransform().mapRect(QRectF(0, 0, *self.image_size))
            top = max(photo.top(), 0.0) + 10
            if self._before_held:
                draw_tag(painter, QPointF(max(photo.left(), 0.0) + 10, top), "Before", left=True)
            elif self._split:
                x = self.viewportTransform().map(self._divider.pos()).x()
                draw_tag(painter, QPointF(x - 10, top), "Before", left=False)
                draw_tag(painter, QPointF(x + 10, top), self._after_tag, left=True)
        painter.restore()
