"""The main window's geometry: the saved size and place if they still fit a screen, else a first
size that fits the screen's free area, centred (moved out of main_window.py, behaviour as was)."""

from __future__ import annotations

import struct

from PySide6.QtCore import QByteArray, QMargins, QPoint, QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow

from designer.window.settings import AppSettings

__all__ = ["FIRST_SIZE", "FRAME_ALLOWANCE", "restore_geometry", "saved_frame"]

FIRST_SIZE = QSize(1400, 900)  # the first window's size where the screen has room for it
# the window manager's frame around the client area, not known before the window is shown
FRAME_ALLOWANCE = QMargins(8, 32, 8, 8)


def restore_geometry(window: QMainWindow, settings: AppSettings) -> None:
    """The saved geometry if it still fits its screen (a smaller screen, another monitor
    setup), else a first size that fits the screen's free area, centred; then the saved
    state of the docks and tool bars."""
    geometry = settings.window_geometry()
    if (
        geometry is None
        or not window.restoreGeometry(geometry)
        or not _fits_screen(window, geometry)
    ):
        _first_geometry(window)
    state = settings.window_state()
    if state is not None:
        window.restoreState(state)


def _available(window: QMainWindow) -> QRect:
    screen = QGuiApplication.screenAt(window.geometry().center()) or window.screen()
    return screen.availableGeometry()


def _fits_screen(window: QMainWindow, geometry: QByteArray) -> bool:
    """Whether the saved frame fits the free area of the screen it is on. Qt would squeeze
    a saved window that no longer fits flush into the screen, frame off its edges."""
    if window.isMaximized():
        return True
    frame = saved_frame(geometry)
    if frame is None:
        return _available(window).contains(window.geometry())
    screen = QGuiApplication.screenAt(frame.center()) or window.screen()
    return screen.availableGeometry().contains(frame)


def _first_geometry(window: QMainWindow) -> None:
    room = _available(window).marginsRemoved(FRAME_ALLOWANCE)
    size = QSize(min(FIRST_SIZE.width(), room.width()), min(FIRST_SIZE.height(), room.height()))
    size = size.expandedTo(window.minimumSizeHint()).boundedTo(room.size())
    rect = QRect(QPoint(0, 0), size)
    rect.moveCenter(room.center())
    window.setGeometry(rect)


_GEOMETRY_MAGIC = 0x1D9D0CB  # QWidget::saveGeometry's header, then the frame's rectangle
_GEOMETRY_HEAD = struct.Struct(">IHHiiii")


def saved_frame(geometry: QByteArray | bytes) -> QRect | None:
    """The frame rectangle in `QWidget.saveGeometry()` data, or None if it does not read as
    such (the format is Qt's; its header and first rectangle have not changed since Qt 4:
    QDataStream's big-endian magic, two 16-bit version numbers, then left, top, right, bottom)."""
    data = bytes(geometry)
    if len(data) < _GEOMETRY_HEAD.size:
        return None
    magic, _major, _minor, left, top, right, bottom = _GEOMETRY_HEAD.unpack_from(data)
    if magic != _GEOMETRY_MAGIC:
        return None
    frame = QRect(QPoint(left, top), QPoint(right, bottom))
    return frame if frame.isValid() else None
