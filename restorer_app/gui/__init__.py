"""The desktop window: PySide6 widgets that adapt the Qt-free engine.

Qt-free pieces (``document``, ``brush_stroke``) hold the state; widgets only show it and
turn user gestures into calls on it.
"""
