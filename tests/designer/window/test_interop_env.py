"""Import OpenAPI's offer to put the spec's `servers[0].url` into an environment (ticked for the
folder's first environment with base URLs; a new name makes one; a broken file says where),
and Export's `redirect` taking the chosen environment's `followRedirects`."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from engine import load_environments
from tests.designer.window_support import WORKFLOWS, make_window

REPO = Path(__file__).resolve().parents[3]
PETSTORE = REPO / "tests" / "data" / "openapi" / "petstore.openapi.yaml"
URL = "http://petstore.swagger.io/v1"


def _folder(tmp_path: Path) -> Path:
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in ("policy_change.yaml", "environments.yaml", "policy_change.mocks.yaml"):
        shutil.copy(WORKFLOWS / name, flows / name)
    return flows


def _dialog(qtbot, tmp_path, flows: Path):  # type: ignore[no-untyped-def]
    window = make_window(qtbot, tmp_path / "w")
    assert window.open_path(str(flows / "policy_change.yaml"))
    dialog = window.interop.open_import_dialog()
    assert dialog.folder_edit.text() == str(flows)
    dialog.set_spec(str(PETSTORE))
    return window, dialog


def test_the_spec_url_goes_into_the_environment_chosen(qtbot, tmp_path):
    flows = _folder(tmp_path)
    window, dialog = _dialog(qtbot, tmp_path, flows)
    # offered for the first environment with base URLs (mock has none), ticked
    assert dialog.env_check.isEnabled() and dialog.env_check.isChecked()
    assert URL in dialog.env_check.text()
    assert dialog.env_combo.currentText() == "local"
    assert [dialog.env_combo.itemText(i) for i in range(dialog.env_combo.count())] == [
        "mock",
        "local",
        "hybrid",
    ]
    assert f"Adds SwaggerPetstore: {URL} to 'local' of environments.yaml" in dialog.message.text()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    envs = load_environments(flows / "environments.yaml").environments
    assert envs["local"].services["SwaggerPetstore"] == URL
    assert "SwaggerPetstore" not in envs["hybrid"].services
    assert "environments.yaml" in window.statusBar().currentMessage()


def test_a_new_environment_name_or_none_at_all(qtbot, tmp_path):
    flows = _folder(tmp_path)
    _window, dialog = _dialog(qtbot, tmp_path, flows)
    edit = dialog.env_combo.lineEdit()
    edit.selectAll()
    qtbot.keyClicks(edit, "staging")  # typed: a name not in the file
    assert "Adds the environment 'staging' to environments.yaml" in dialog.message.text()
    qtbot.mouseClick(dialog.env_check, Qt.MouseButton.LeftButton)  # untick the offer
    assert not dialog.env_check.isChecked()
    assert "environments.yaml" not in dialog.message.text()
    assert not dialog.env_combo.isEnabled()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert (flows / "SwaggerPetstore.service.yaml").exists()
    assert "staging" not in load_environments(flows / "environments.yaml").environments


def test_a_broken_environments_file_is_named_and_nothing_is_written(qtbot, tmp_path):
    flows = _folder(tmp_path)
    (flows / "environments.yaml").write_text(
        "version: 1\nenvironments:\n  live:\n    services: {A: 'http://a'}\n    servics: {}\n"
    )
    _window, dialog = _dialog(qtbot, tmp_path, flows)
    dialog.env_check.setChecked(True)
    dialog.env_combo.setEditText("live")
    assert "environments.yaml:5:5" in dialog.message.text()
    assert not dialog.ok_button.isEnabled()
    dialog.write()
    assert not (flows / "SwaggerPetstore.service.yaml").exists()


def test_export_writes_redirect_as_the_chosen_environment_says(qtbot, tmp_path):
    flows = _folder(tmp_path)
    envs = flows / "environments.yaml"
    envs.write_text(envs.read_text().replace("  local:\n", "  local:\n    followRedirects: true\n"))
    window = make_window(qtbot, tmp_path / "w")
    assert window.open_path(str(flows / "policy_change.yaml"))
    assert window.run_ui.toolbar.select_environment("local")
    assert window.interop.export_to(str(tmp_path / "local.sw.yaml"))
    doc = yaml.safe_load((tmp_path / "local.sw.yaml").read_text())
    calls = [t for task in doc["do"] for t in task.values() if t.get("call") == "http"]
    assert calls and all(c["with"]["redirect"] is True for c in calls)
    assert window.run_ui.toolbar.select_environment("mock")  # no base URLs: none of its keys
    assert window.interop.export_to(str(tmp_path / "mock.sw.yaml"))
    assert "redirect" not in (tmp_path / "mock.sw.yaml").read_text()
