"""The main window: its actions, problems, YAML view, settings and autosave."""

from __future__ import annotations

from designer.window.main_window import MainWindow
from designer.window.settings import AppSettings, Autosave

__all__ = ["AppSettings", "Autosave", "MainWindow"]
