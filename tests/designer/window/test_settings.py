"""Settings, recent files, autosave and crash recovery (designer/files.py)."""

from __future__ import annotations

import json

from PySide6.QtCore import QByteArray, QSettings

from designer.window.settings import (
    MAX_RECENT,
    AppSettings,
    Autosave,
    discard_autosave,
    recoverable_autosaves,
)


def _settings(tmp_path) -> AppSettings:
    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def test_recent_files_newest_first_deduplicated_and_capped(qapp, tmp_path):
    s = _settings(tmp_path)
    for i in range(MAX_RECENT + 3):
        s.add_recent(str(tmp_path / f"w{i}.yaml"))
    s.add_recent(str(tmp_path / "w5.yaml"))
    files = s.recent_files()
    assert len(files) == MAX_RECENT
    assert files[0].endswith("w5.yaml")
    assert sum(f.endswith("w5.yaml") for f in files) == 1
    assert files[1].endswith(f"w{MAX_RECENT + 2}.yaml")
    s.remove_recent(files[0])
    assert not any(f.endswith("w5.yaml") for f in s.recent_files())


def test_settings_survive_a_new_qsettings_on_the_same_file(qapp, tmp_path):
    s = _settings(tmp_path)
    s.add_recent(str(tmp_path / "only.yaml"))
    s.set_theme("dark")
    s.set_show_grid(False)
    s.set_window(QByteArray(b"geo"), QByteArray(b"state"))
    s.sync()
    again = _settings(tmp_path)
    assert again.recent_files() == [str(tmp_path / "only.yaml")]
    assert again.theme() == "dark"
    assert again.show_grid() is False
    assert bytes(again.window_geometry()) == b"geo"
    assert bytes(again.window_state()) == b"state"


def test_autosave_of_a_live_session_is_not_offered(qapp, tmp_path):
    a = Autosave(tmp_path)
    a.write("version: 1\nname: live\n", str(tmp_path / "live.yaml"))
    assert recoverable_autosaves(tmp_path) == []
    a.close()


def test_autosave_left_by_an_ended_session_is_offered_once_discarded_gone(qapp, tmp_path):
    a = Autosave(tmp_path)
    path = a.write("version: 1\nname: crashed\n", str(tmp_path / "crashed.yaml"))
    assert path.is_file()
    a.release()  # what a crash leaves: the autosave stays, nobody holds the session
    entries = recoverable_autosaves(tmp_path)
    assert len(entries) == 1
    entry = entries[0]
    assert entry.original == str(tmp_path / "crashed.yaml")
    assert entry.text() == "version: 1\nname: crashed\n"
    assert "crashed.yaml" in entry.describe()
    discard_autosave(entry)
    assert recoverable_autosaves(tmp_path) == []


def test_clean_close_removes_the_autosave(qapp, tmp_path):
    a = Autosave(tmp_path)
    path = a.write("version: 1\n", None)
    assert path.name.startswith("untitled-")
    a.close()
    assert not path.exists()
    assert list(tmp_path.glob("*.yaml")) == []
    assert recoverable_autosaves(tmp_path) == []


def test_save_as_moves_the_autosave_to_the_new_file_key(qapp, tmp_path):
    a = Autosave(tmp_path)
    first = a.write("version: 1\n", None)
    second = a.write("version: 1\n", str(tmp_path / "named.yaml"))
    assert not first.exists() and second.exists()
    meta = json.loads(second.with_suffix(".json").read_text())
    assert meta["original"] == str(tmp_path / "named.yaml")
    assert meta["session"] == a.session
    a.close()
