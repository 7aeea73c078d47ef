"""Switchboard's designer: the PySide6 desktop app over the engine, in feature folders.

Layers (an import-linter contract): `command` > `app` > `window` > `run | inspector | palette`
> `canvas` > `document | shared`. Importing this package loads no Qt: `command` must stay light.
"""

from __future__ import annotations
