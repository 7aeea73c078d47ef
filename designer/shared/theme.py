"""Light and dark themes: the Fusion palette, the style sheets and SVG icons from resources/."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPalette, QPixmap, QTextCharFormat
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

__all__ = [
    "RESOURCES",
    "THEMES",
    "apply_theme",
    "current_theme",
    "icon",
    "icon_path",
    "is_dark",
    "load_style_sheet",
    "make_palette",
    "text_format",
]

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
THEMES = ("light", "dark")

# Icon colour per theme: the SVGs draw with `currentColor`, replaced here, so one file serves
# both themes (only the status icons carry their own colours).
_ICON_COLOURS = {"light": "#3c4654", "dark": "#d5dbe3"}
_ICON_SIZES = (16, 20, 24, 32, 48)

_state = {"theme": "light"}
_icon_cache: dict[tuple[str, str], QIcon] = {}


def text_format(colour: str, bold: bool = False) -> QTextCharFormat:
    """A highlighter's format: text in `colour`, bold if asked."""
    f = QTextCharFormat()
    f.setForeground(QColor(colour))
    if bold:
        f.setFontWeight(700)
    return f


def icon_path(name: str) -> Path:
    return RESOURCES / "icons" / f"{name}.svg"


def current_theme() -> str:
    return _state["theme"]


def is_dark() -> bool:
    return _state["theme"] == "dark"


def _render_svg(data: bytes, size: int) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(data))
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return QPixmap.fromImage(image)


def icon(name: str) -> QIcon:
    """The icon `resources/icons/<name>.svg` drawn in the current theme's colour.

    Raises FileNotFoundError naming the missing file, so a typo shows at once in tests.
    """
    theme = _state["theme"]
    key = (name, theme)
    cached = _icon_cache.get(key)
    if cached is not None:
        return cached
    path = icon_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"icon {name!r} not found: expected {path}")
    data = path.read_bytes().replace(b"currentColor", _ICON_COLOURS[theme].encode())
    result = QIcon()
    for size in _ICON_SIZES:
        result.addPixmap(_render_svg(data, size))
    _icon_cache[key] = result
    return result


def make_palette(theme: str) -> QPalette:
    """A Fusion palette for `light` or `dark`."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}: use one of {', '.join(THEMES)}")
    p = QPalette()
    R = QPalette.ColorRole
    G = QPalette.ColorGroup
    if theme == "light":
        colours = {
            R.Window: "#f3f4f6",
            R.WindowText: "#1d232b",
            R.Base: "#ffffff",
            R.AlternateBase: "#f0f2f5",
            R.ToolTipBase: "#ffffe8",
            R.ToolTipText: "#1d232b",
            R.Text: "#1d232b",
            R.Button: "#e9ecf0",
            R.ButtonText: "#1d232b",
            R.BrightText: "#c62828",
            R.Highlight: "#2f6fd0",
            R.HighlightedText: "#ffffff",
            R.Link: "#2159b3",
            R.PlaceholderText: "#8a939e",
            R.Mid: "#c3c9d1",
            R.Midlight: "#dde1e6",
            R.Dark: "#9aa2ad",
            R.Shadow: "#6d7580",
            R.Light: "#ffffff",
        }
        disabled = "#9aa2ad"
    else:
        colours = {
            R.Window: "#24282e",
            R.WindowText: "#e3e7ec",
            R.Base: "#1b1e23",
            R.AlternateBase: "#262a31",
            R.ToolTipBase: "#32373f",
            R.ToolTipText: "#e3e7ec",
            R.Text: "#e3e7ec",
            R.Button: "#2e333b",
            R.ButtonText: "#e3e7ec",
            R.BrightText: "#ff8a80",
            R.Highlight: "#3d7be0",
            R.HighlightedText: "#ffffff",
            R.Link: "#7fb0ff",
            R.PlaceholderText: "#7c8692",
            R.Mid: "#3b414b",
            R.Midlight: "#343a43",
            R.Dark: "#15181c",
            R.Shadow: "#0c0e10",
            R.Light: "#454c57",
        }
        disabled = "#6b737e"
    for role, colour in colours.items():
        p.setColor(role, QColor(colour))
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(G.Disabled, role, QColor(disabled))
    return p


def load_style_sheet(theme: str) -> str:
    path = RESOURCES / "styles" / f"{theme}.qss"
    return path.read_text(encoding="utf-8")


def apply_theme(app: QApplication, theme: str) -> None:
    """Switch the whole application to `theme`; icons made afterwards use its colour."""
    palette = make_palette(theme)
    app.setStyle("Fusion")
    app.setPalette(palette)
    app.setStyleSheet(load_style_sheet(theme))
    _state["theme"] = theme
