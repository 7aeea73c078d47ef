"""Settings (recent files, theme, window state), autosave of unsaved work and crash recovery.

Autosave layout, under QStandardPaths.AppDataLocation/autosave (or a directory given by tests):

    <key>.yaml   the unsaved workflow text, exactly as it would be saved
    <key>.json   {"original": path or null, "session": id, "saved": ISO time}
    <session>.lock   a QLockFile held by the designer process that owns the session

An autosave is offered for recovery only when its session's lock is free: the owning process has
ended without a clean save or close (a crash), since a clean save or close deletes the files.
QLockFile tells a live owner from a dead one by PID on every platform.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QByteArray, QLockFile, QSaveFile, QSettings, QStandardPaths

__all__ = [
    "AppSettings",
    "Autosave",
    "AutosaveEntry",
    "MAX_RECENT",
    "default_autosave_dir",
    "recoverable_autosaves",
    "discard_autosave",
]

MAX_RECENT = 10


class AppSettings:
    """Typed access to the designer's QSettings. Tests pass a QSettings on a temporary file."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings if settings is not None else QSettings()

    # recent files ---------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.qsettings.value("recentFiles", [])
        if isinstance(value, str):  # QSettings returns a lone string for a list of one
            value = [value]
        return [str(v) for v in (value or []) if v]

    def add_recent(self, path: str) -> list[str]:
        path = os.path.abspath(path)
        files = [p for p in self.recent_files() if os.path.abspath(p) != path]
        files.insert(0, path)
        del files[MAX_RECENT:]
        self.qsettings.setValue("recentFiles", files)
        return files

    def remove_recent(self, path: str) -> None:
        path = os.path.abspath(path)
        files = [p for p in self.recent_files() if os.path.abspath(p) != path]
        self.qsettings.setValue("recentFiles", files)

    def clear_recent(self) -> None:
        self.qsettings.setValue("recentFiles", [])

    # look and layout ------------------------------------------------------------------------
    def theme(self) -> str:
        value = str(self.qsettings.value("theme", "light"))
        return value if value in ("light", "dark") else "light"

    def set_theme(self, theme: str) -> None:
        self.qsettings.setValue("theme", theme)

    def show_grid(self) -> bool:
        return str(self.qsettings.value("showGrid", "true")).lower() == "true"

    def set_show_grid(self, on: bool) -> None:
        self.qsettings.setValue("showGrid", "true" if on else "false")

    def show_minimap(self) -> bool:
        return str(self.qsettings.value("showMinimap", "true")).lower() == "true"

    def set_show_minimap(self, on: bool) -> None:
        self.qsettings.setValue("showMinimap", "true" if on else "false")

    def window_geometry(self) -> QByteArray | None:
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def window_state(self) -> QByteArray | None:
        value = self.qsettings.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)

    def sync(self) -> None:
        self.qsettings.sync()


def default_autosave_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "autosave"


@dataclass(frozen=True)
class AutosaveEntry:
    """An autosave left behind by a session that ended without saving."""

    yaml_path: Path
    meta_path: Path
    original: str | None  # the file the work belongs to; None for an untitled workflow
    saved: str  # ISO time of the autosave

    def text(self) -> str:
        return self.yaml_path.read_text(encoding="utf-8")

    def describe(self) -> str:
        name = os.path.basename(self.original) if self.original else "an untitled workflow"
        try:
            when = datetime.fromisoformat(self.saved).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            when = self.saved
        return f"{name} (autosaved {when})"


def _write_atomic(path: Path, data: bytes) -> None:
    f = QSaveFile(str(path))
    if not f.open(QSaveFile.OpenModeFlag.WriteOnly):
        raise OSError(f"cannot write the autosave {path}: {f.errorString()}")
    f.write(QByteArray(data))
    if not f.commit():
        raise OSError(f"cannot write the autosave {path}: {f.errorString()}")


def _session_lock_free(directory: Path, session: str) -> bool:
    """True when no live process holds the session's lock (it crashed or exited)."""
    lock_path = directory / f"{session}.lock"
    if not lock_path.exists():
        return True
    lock = QLockFile(str(lock_path))
    lock.setStaleLockTime(0)  # judge by the owner's PID only, never by the lock's age
    if lock.tryLock(0):
        lock.unlock()  # removes the stale lock file
        return True
    return False


def recoverable_autosaves(directory: Path | None = None) -> list[AutosaveEntry]:
    """Autosaves whose session has ended: the work a crash left unsaved, newest first."""
    directory = directory or default_autosave_dir()
    if not directory.is_dir():
        return []
    out: list[AutosaveEntry] = []
    for meta_path in sorted(directory.glob("*.json")):
        yaml_path = meta_path.with_suffix(".yaml")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not yaml_path.is_file() or not isinstance(meta, dict):
            continue
        session = str(meta.get("session", ""))
        if session and not _session_lock_free(directory, session):
            continue
        original = meta.get("original")
        out.append(
            AutosaveEntry(
                yaml_path,
                meta_path,
                str(original) if original else None,
                str(meta.get("saved", "")),
            )
        )
    out.sort(key=lambda e: e.saved, reverse=True)
    return out


def discard_autosave(entry: AutosaveEntry) -> None:
    for p in (entry.yaml_path, entry.meta_path):
        p.unlink(missing_ok=True)


class Autosave:
    """The autosave of one window: writes the text beside a lock that marks the session alive."""

    _untitled_counter = 0

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_autosave_dir()
        self.session = uuid.uuid4().hex
        Autosave._untitled_counter += 1
        self._untitled_key = f"untitled-{self.session[:8]}-{Autosave._untitled_counter}"
        self._lock: QLockFile | None = None
        self._current: tuple[Path, Path] | None = None

    def _ensure_lock(self) -> None:
        if self._lock is not None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = QLockFile(str(self.directory / f"{self.session}.lock"))
        lock.setStaleLockTime(0)
        if not lock.tryLock(0):
            raise OSError(f"cannot lock the autosave session in {self.directory}")
        self._lock = lock

    def key_for(self, original: str | None) -> str:
        if not original:
            return self._untitled_key
        absolute = os.path.abspath(original)
        digest = hashlib.sha1(absolute.encode("utf-8")).hexdigest()[:12]
        stem = Path(absolute).stem[:40]
        # the session in the key keeps two windows (or a restored crash) from sharing a file
        return f"{stem}-{digest}-{self.session[:8]}"

    def paths_for(self, original: str | None) -> tuple[Path, Path]:
        key = self.key_for(original)
        return self.directory / f"{key}.yaml", self.directory / f"{key}.json"

    @property
    def current_path(self) -> Path | None:
        """The autosave file written last, if it still exists."""
        if self._current and self._current[0].exists():
            return self._current[0]
        return None

    def write(self, text: str, original: str | None) -> Path:
        """Write the autosave for the work on `original` (None: untitled). Raises OSError."""
        self._ensure_lock()
        yaml_path, meta_path = self.paths_for(original)
        if self._current and self._current != (yaml_path, meta_path):
            self.remove()  # the work moved to another file (Save As): drop the old autosave
        _write_atomic(yaml_path, text.encode("utf-8"))
        meta = {
            "original": os.path.abspath(original) if original else None,
            "session": self.session,
            "saved": datetime.now().isoformat(timespec="seconds"),
        }
        _write_atomic(meta_path, json.dumps(meta, indent=1).encode("utf-8"))
        self._current = (yaml_path, meta_path)
        return yaml_path

    def remove(self) -> None:
        """Delete this window's autosave (after a clean save, or a close that keeps nothing)."""
        if self._current:
            for p in self._current:
                p.unlink(missing_ok=True)
            self._current = None

    def close(self) -> None:
        """A clean end of the session: no autosave left, lock released."""
        self.remove()
        self.release()

    def release(self) -> None:
        """Release the session lock, keeping any autosave (what a crash leaves behind)."""
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
