"""File → Import OpenAPI…: pick a spec and a service name; writes NAME.service.yaml (and, if
asked, NAME.mocks.yaml from the spec's examples) into the workflow's folder, and, if asked, the
spec's `servers[0].url` as the service's base URL into an environment of the folder's
environments file (`import-openapi --env`).

The spec is read as soon as it is picked, so its operations (or its problems, with line and
column) show before anything is written; files that exist are named and the button says
Overwrite.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import (
    LoadError,
    ServiceImport,
    ServiceUrlEdit,
    SwitchboardError,
    check_service_name,
    folder_environments,
    plan_service_import,
    plan_service_url,
)

__all__ = ["OpenApiImportDialog", "service_name_from_title"]

SPEC_FILTER = "OpenAPI documents (*.yaml *.yml *.json);;All files (*)"

_T = TypeVar("_T")


def service_name_from_title(title: str) -> str:
    """A service name from a spec's title: `Swagger Petstore` -> `SwaggerPetstore`."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    name = "".join(w[:1].upper() + w[1:] for w in words)
    name = name.lstrip("0123456789")
    return name[:60] or "Service"


class OpenApiImportDialog(QDialog):
    """Spec, service name, folder and 'mocks from examples'; emits `imported` once written."""

    imported = Signal(str, list)  # service name, paths written

    def __init__(self, folder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import OpenAPI")
        self.setMinimumWidth(620)
        self.spec_edit = QLineEdit()
        self.spec_edit.setPlaceholderText("an OpenAPI 3.0 or 3.1 document (YAML or JSON)")
        self.browse_button = QPushButton("Browse…")
        self.service_edit = QLineEdit()
        self.service_edit.setPlaceholderText("the name call steps use, e.g. Petstore")
        self.folder_edit = QLineEdit(folder)
        self.folder_edit.setToolTip("The service file goes beside the workflows of this folder")
        self.mocks_check = QCheckBox("Also write mocks from the spec's response examples")
        self.mocks_check.setChecked(True)
        # servers[0].url into an environment: offered when the spec has one
        self.env_check = QCheckBox("Add the spec's URL to the environment")
        self.env_combo = QComboBox()
        self.env_combo.setEditable(True)  # a new name makes a new environment
        self.env_combo.setToolTip(
            "The environment of the folder's environments file that gets the service's base "
            "URL (a name not there adds it; no file: environments.yaml is made)"
        )
        self.env_edit: ServiceUrlEdit | None = None
        self._env_folder: str | None = None
        self.operations = QTreeWidget()
        self.operations.setRootIsDecorated(False)
        self.operations.setHeaderLabels(["Operation", "Method", "Path", "Summary"])
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("hint")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)

        spec_row = QHBoxLayout()
        spec_row.addWidget(self.spec_edit, 1)
        spec_row.addWidget(self.browse_button)
        form = QFormLayout()
        spec_label = QLabel("&Spec:")  # a row of a layout gets no buddy (nor mnemonic) itself
        spec_label.setBuddy(self.spec_edit)
        form.addRow(spec_label, spec_row)
        form.addRow("Service &name:", self.service_edit)
        form.addRow("&Folder:", self.folder_edit)
        form.addRow("", self.mocks_check)
        env_row = QHBoxLayout()
        env_row.addWidget(self.env_check)
        env_row.addWidget(self.env_combo, 1)
        form.addRow("", env_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.operations, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        self.plan: ServiceImport | None = None
        self._title = ""
        self._named_by_user = False
        self.browse_button.clicked.connect(self._browse)
        self.spec_edit.editingFinished.connect(self.refresh)
        self.service_edit.textEdited.connect(self._service_edited)
        self.folder_edit.editingFinished.connect(self.refresh)
        self.mocks_check.toggled.connect(lambda _on: self.refresh())
        self.env_check.toggled.connect(lambda _on: self.refresh())
        self.env_combo.currentTextChanged.connect(lambda _t: self.refresh())
        self.buttons.accepted.connect(self.write)
        self.buttons.rejected.connect(self.reject)
        self.refresh()

    def _browse(self) -> None:
        start = os.path.dirname(self.spec_edit.text()) or self.folder_edit.text()
        dialog = QFileDialog(self, "Choose an OpenAPI document", start, SPEC_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.set_spec)
        dialog.open()

    def set_spec(self, path: str) -> None:
        self.spec_edit.setText(path)
        self.refresh()

    def _service_edited(self, _text: str) -> None:
        self._named_by_user = True
        self.refresh()

    def refresh(self) -> None:
        """Read the spec and plan the files; show its operations, or what is wrong."""
        self.plan = None
        self.env_edit = None
        self.operations.clear()
        spec, folder = self.spec_edit.text().strip(), self.folder_edit.text().strip()
        self._offer_environments(folder)
        if not spec:
            self._say("Choose the spec to import.", ok=False)
            return
        if not os.path.isdir(folder):
            self._say(f"{folder or 'The folder'}: no such folder: choose where to write.", False)
            return
        service = self.service_edit.text().strip()
        # the spec's title names the service until the user types a name
        plan = self._planned(
            lambda: plan_service_import(
                spec, service or "Service", folder, self.mocks_check.isChecked()
            )
        )
        if plan is None:
            return
        if not self._named_by_user and plan.spec.title:
            named = service_name_from_title(plan.spec.title)
            if named != service:
                self.service_edit.setText(named)
                self.refresh()
                return
        why = check_service_name(self.service_edit.text().strip())
        for op in plan.spec.operations.values():
            QTreeWidgetItem(self.operations, [op.operation_id, op.method, op.path, op.summary])
        for column in range(3):
            self.operations.resizeColumnToContents(column)
        if why is not None:
            self._say(why, ok=False)
            return
        n = len(plan.spec.operations)
        names = ", ".join(os.path.basename(p) for p, _ in plan.files)
        existing = plan.existing()
        text = f"{n} operation{'s' if n != 1 else ''}. Writes {names} into {folder}."
        if existing:
            text += " Overwrites " + ", ".join(p.name for p in existing) + "."
        self.env_check.setEnabled(plan.base_url is not None)
        self.env_check.setText(
            f"Add {plan.base_url} to the environment"
            if plan.base_url
            else "The spec gives no servers[0].url to add to an environment"
        )
        self.env_combo.setEnabled(plan.base_url is not None and self.env_check.isChecked())
        if plan.base_url and self.env_check.isChecked():
            env = self.env_combo.currentText().strip()
            if not env:
                self._say("Name the environment that gets the URL.", ok=False)
                return
            base_url = plan.base_url
            self.env_edit = self._planned(
                lambda: plan_service_url(folder, env, plan.service, base_url)
            )
            if self.env_edit is None:
                return
            text += f" {self.env_edit.describe()}."
        self.plan = plan
        self._say(text, ok=True)
        self.ok_button.setText("Overwrite" if existing else "Import")

    def _offer_environments(self, folder: str) -> None:
        """The folder's environments in the box, once per folder; the first one with base URLs
        (live or hybrid) chosen and the offer ticked, else `live` and not ticked."""
        if folder == self._env_folder:
            return
        self._env_folder = folder
        try:
            envs = folder_environments(folder).environments if os.path.isdir(folder) else []
        except (SwitchboardError, OSError):
            envs = []  # a broken file is said when the offer is taken
        live = [e.name for e in envs if e.services]
        blocked = self.env_combo.blockSignals(True)
        self.env_combo.clear()
        self.env_combo.addItems([e.name for e in envs])
        self.env_combo.setCurrentText(live[0] if live else "live")
        self.env_combo.blockSignals(blocked)
        blocked = self.env_check.blockSignals(True)
        self.env_check.setChecked(bool(live))
        self.env_check.blockSignals(blocked)

    def _planned(self, make: Callable[[], _T]) -> _T | None:
        """What `make` plans, or None when it cannot (said in the dialog, located)."""
        try:
            return make()
        except LoadError as e:
            self._say("\n".join(str(p) for p in e.problems[:5]), ok=False)
        except ValueError as e:
            self._say(str(e), ok=False)
        return None

    def _say(self, text: str, ok: bool) -> None:
        self.message.setText(text)
        self.message.setObjectName("hint" if ok else "fieldError")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.ok_button.setEnabled(ok)
        if not ok:
            self.ok_button.setText("Import")

    def write(self) -> None:
        self.refresh()  # the files may have changed since the spec was read
        if self.plan is None:
            return
        try:
            written = self.plan.write()
            if self.env_edit is not None and not self.env_edit.unchanged:
                self.env_edit.write()
                written.append(self.env_edit.path)
        except OSError as e:
            self._say(f"Cannot write: {e.strerror or e}", ok=False)
            return
        self.imported.emit(self.plan.service, [str(p) for p in written])
        self.accept()
