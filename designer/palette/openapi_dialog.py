"""File → Import OpenAPI…: pick a spec and a service name; writes NAME.service.yaml (and, if
asked, NAME.mocks.yaml from the spec's examples) into the workflow's folder.

The spec is read as soon as it is picked, so its operations (or its problems, with line and
column) show before anything is written; files that exist are named and the button says
Overwrite.
"""

from __future__ import annotations

import os
import re

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
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

from engine import LoadError, ServiceImport, check_service_name, plan_service_import

__all__ = ["OpenApiImportDialog", "service_name_from_title"]

SPEC_FILTER = "OpenAPI documents (*.yaml *.yml *.json);;All files (*)"


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
        self.operations.clear()
        spec, folder = self.spec_edit.text().strip(), self.folder_edit.text().strip()
        if not spec:
            self._say("Choose the spec to import.", ok=False)
            return
        if not os.path.isdir(folder):
            self._say(f"{folder or 'The folder'}: no such folder: choose where to write.", False)
            return
        service = self.service_edit.text().strip()
        try:
            # the spec's title names the service until the user types a name
            plan = plan_service_import(
                spec, service or "Service", folder, self.mocks_check.isChecked()
            )
        except LoadError as e:
            self._say("\n".join(str(p) for p in e.problems[:5]), ok=False)
            return
        except ValueError as e:
            self._say(str(e), ok=False)
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
        self.plan = plan
        n = len(plan.spec.operations)
        names = ", ".join(os.path.basename(p) for p, _ in plan.files)
        existing = plan.existing()
        text = f"{n} operation{'s' if n != 1 else ''}. Writes {names} into {folder}."
        if existing:
            text += " Overwrites " + ", ".join(p.name for p in existing) + "."
        self._say(text, ok=True)
        self.ok_button.setText("Overwrite" if existing else "Import")

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
        except OSError as e:
            self._say(f"Cannot write: {e.strerror or e}", ok=False)
            return
        self.imported.emit(self.plan.service, [str(p) for p in written])
        self.accept()
