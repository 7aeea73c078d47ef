"""Test-wide settings: Qt runs offscreen, and settings/autosave stay inside a temporary folder."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
