"""File → Export as Serverless Workflow…, opening a `.sw.yaml`, Import OpenAPI… and Deploy to
server…: the designer's side of the engine's interop and `switchboard deploy`.

Problems of each (the export's, in the workflow's text; the import's, in the Serverless
Workflow file; the server's, in the text sent) go to the Problems panel under their source.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QFileDialog, QMainWindow, QMenu, QMessageBox, QStatusBar

from designer.document import WorkflowDocument
from designer.palette import PaletteWidget
from designer.palette.openapi_dialog import OpenApiImportDialog
from designer.window.deploy_dialog import DeployDialog
from designer.window.problems import LoadProblemsDialog, ProblemsWidget
from designer.window.settings import AppSettings
from engine import (
    SERVERLESS_SUFFIX,
    DeployAnswer,
    LoadError,
    Problem,
    SwitchboardError,
    deploy_text,
    export_serverless,
    folder_environments,
    import_serverless,
    parse_workflow,
    read_text,
    save_text_atomic,
)

__all__ = ["InteropActions", "InteropHost", "SERVERLESS_FILTER", "serverless_path_for"]

SERVERLESS_FILTER = "Serverless Workflow (*.sw.yaml *.sw.yml *.sw.json)"
EXPORT, IMPORT, DEPLOY = "Export", "Import", "Deploy"


class InteropHost(Protocol):
    """What the interop actions need of the main window."""

    document: WorkflowDocument
    problems: ProblemsWidget
    problems_dock: Any
    palette_widget: PaletteWidget
    palette_dock: Any
    settings: AppSettings

    view: Any

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 - Qt's name
    def _show_dialog(self, dialog: QDialog) -> None: ...
    def _update_title(self) -> None: ...
    def show_load_problems(self, path: str, problems: list[Problem]) -> LoadProblemsDialog: ...


def serverless_path_for(path: str | None, name: str) -> str:
    """`flows/policy.yaml` -> `flows/policy.sw.yaml`; an unsaved workflow's name in the cwd."""
    if not path:
        return os.path.join(os.getcwd(), f"{name}{SERVERLESS_SUFFIX}")
    stem = path
    for ext in (".yaml", ".yml"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
            break
    return stem + SERVERLESS_SUFFIX


class _Relay(QObject):
    """Carries a worker thread's answer to the GUI thread (a queued signal)."""

    deployed = Signal(object)


class InteropActions:
    """The four actions, placed in the File menu before Quit."""

    def __init__(self, window: QMainWindow, host: InteropHost, file_menu: QMenu, before: QAction):
        self.window = window
        self.host = host
        self.export = QAction("&Export as Serverless Workflow…", window)
        self.export.setStatusTip("Write the workflow as a CNCF Serverless Workflow 1.0.3 document")
        self.export.triggered.connect(lambda _c=False: self.choose_export())
        self.import_openapi = QAction("Import &OpenAPI…", window)
        self.import_openapi.setStatusTip(
            "Describe a service by its OpenAPI spec: its operations go in the palette"
        )
        self.import_openapi.triggered.connect(lambda _c=False: self.open_import_dialog())
        self.deploy = QAction("&Deploy to Server…", window)
        self.deploy.setStatusTip("Send the workflow to a running switchboard serve")
        self.deploy.triggered.connect(lambda _c=False: self.open_deploy_dialog())
        for action in (self.export, self.import_openapi, self.deploy):
            file_menu.insertAction(before, action)
        file_menu.insertSeparator(before)
        self._relay = _Relay()
        self._relay.deployed.connect(self._deployed, Qt.ConnectionType.QueuedConnection)
        self.deploy_dialog: DeployDialog | None = None
        self.last_deploy: DeployAnswer | None = None

    def _status(self, text: str) -> None:
        self.host.statusBar().showMessage(text, 10000)

    def _show_problems(self, source: str, problems: list[Problem]) -> None:
        self.host.problems.show_external(source, problems)
        if problems:
            self.host.problems_dock.show()
            self.host.problems_dock.raise_()

    # --- export -----------------------------------------------------------------------------

    def choose_export(self) -> None:
        doc = self.host.document
        start = serverless_path_for(doc.path, doc.workflow.name)
        dialog = QFileDialog(self.window, "Export as Serverless Workflow", start, SERVERLESS_FILTER)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("sw.yaml")
        dialog.fileSelected.connect(self.export_to)
        self.host._show_dialog(dialog)

    def export_to(self, path: str) -> bool:
        """Export the open workflow to `path`; its problems go to the Problems panel."""
        doc = self.host.document
        name = doc.path or "untitled.yaml"
        # the text as it will be saved: the export's problems get its lines and columns
        loaded = parse_workflow(doc.yaml_text(), name)
        if loaded.model is None or loaded.errors:
            self._show_problems(EXPORT, [])
            self._status("Not exported: fix the errors in Problems first")
            self.host.problems_dock.show()
            return False
        locator = loaded.locator
        services, env, follow = self._base_urls()
        out = export_serverless(
            loaded.model,
            file=name,
            locate=(lambda p: locator.locate(p)) if locator else None,
            services=services,
            follow_redirects=follow,
        )
        self._show_problems(EXPORT, out.problems)
        if out.document is None:
            self._status("Not exported: see Problems")
            return False
        try:
            save_text_atomic(Path(path), out.text)
        except OSError as e:
            self._error("Cannot export", f"Cannot write {path}: {e.strerror or e}")
            return False
        n = len(out.problems)
        self._status(
            f"Exported {path}"
            + (f" with the base URLs of the environment '{env}'" if env else "")
            + (f" ({n} warning{'s' if n != 1 else ''} in Problems)" if n else "")
        )
        return True

    def _base_urls(self) -> tuple[dict[str, str], str | None, bool | None]:
        """The services' base URLs of the environment chosen in the run tool bar, when it has
        any (a live or hybrid one), as `export --env` takes them, and whether it follows
        redirects (None: not said); else none (`http://<service>`)."""
        doc = self.host.document
        run_ui = getattr(self.window, "run_ui", None)
        if run_ui is None or not doc.path:
            return {}, None, None
        name = run_ui.toolbar.current_choice().env
        if not name:
            return {}, None, None
        try:
            info = folder_environments(Path(doc.path).parent).get(name)
        except (SwitchboardError, OSError):
            return {}, None, None  # the run tool bar and Problems say what is wrong with the file
        if info is None or not info.services:
            return {}, None, None
        return dict(info.services), name, info.http.follow_redirects or None

    # --- open a Serverless Workflow file ------------------------------------------------------

    def open_serverless(self, path: str) -> bool:
        """Import `path` as a new, unsaved workflow; its problems go to the Problems panel."""
        try:
            text = read_text(path)
        except LoadError as e:
            self.host.show_load_problems(path, e.problems)
            return False
        result = import_serverless(text, path)
        if result.workflow is None:
            self.host.show_load_problems(path, result.problems)
            return False
        doc = self.host.document
        doc.replace_workflow(result.workflow, None)
        doc.undo_stack.resetClean()  # a new workflow: unsaved until the user saves it
        self.host.palette_widget.set_sources(path, result.workflow)
        self.host._update_title()
        QTimer.singleShot(0, self.host.view.fit_to_view)
        self._show_problems(IMPORT, result.problems)
        services = "; ".join(f"{k}: {v}" for k, v in result.services.items())
        n = len(result.problems)
        self._status(
            f"Imported {os.path.basename(path)} as a new workflow"
            + (f", {n} problem{'s' if n != 1 else ''} in Problems" if n else "")
            + (f"; services {services} (add them to an environment)" if services else "")
        )
        return True

    # --- OpenAPI ------------------------------------------------------------------------------

    def open_import_dialog(self) -> OpenApiImportDialog:
        doc = self.host.document
        folder = os.path.dirname(doc.path) if doc.path else os.getcwd()
        dialog = OpenApiImportDialog(folder, self.window)
        dialog.imported.connect(self._imported)
        self.host._show_dialog(dialog)
        return dialog

    def _imported(self, service: str, written: list[str]) -> None:
        doc = self.host.document
        folder = os.path.dirname(written[0])
        # an unsaved workflow's palette reads the folder the service went into
        source = doc.path or os.path.join(folder, "untitled.yaml")
        self.host.palette_widget.set_sources(source, doc.workflow)
        self.host.palette_dock.show()
        self.host.palette_widget.expand_service(service)
        if doc.path and any(os.path.basename(p).startswith("environments.") for p in written):
            self.host.run_ui.toolbar.set_workflow_path(doc.path)  # the new base URL is there
        names = ", ".join(os.path.basename(p) for p in written)
        self._status(f"Imported the service {service}: wrote {names}")

    # --- deploy -------------------------------------------------------------------------------

    def open_deploy_dialog(self) -> DeployDialog:
        dialog = DeployDialog(self.host.settings, self.host.document.workflow.name, self.window)
        dialog.deploy_requested.connect(self.start_deploy)
        self.deploy_dialog = dialog
        self.host._show_dialog(dialog)
        return dialog

    def start_deploy(self, server: str, token: str) -> None:
        """PUT the workflow's text (as it would be saved) in a thread; the answer comes back
        to `_deployed` on the GUI thread."""
        doc = self.host.document
        name, text = doc.workflow.name, doc.yaml_text()
        self._status(f"Deploying {name} to {server}…")

        def work() -> None:
            self._relay.deployed.emit(deploy_text(server, name, text, token or None))

        threading.Thread(target=work, name="switchboard-deploy", daemon=True).start()

    def _deployed(self, answer: DeployAnswer) -> None:
        self.last_deploy = answer
        self._show_problems(DEPLOY, answer.problems)
        if self.deploy_dialog is not None:
            self.deploy_dialog.finished_deploy(answer)
        if answer.ok:
            self._status(f"Deployed: {answer.message}")
        else:
            extra = " (see Problems)" if answer.problems else ""
            self._status(f"Not deployed: {answer.message}{extra}")

    def _error(self, title: str, text: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, self.window
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        QTimer.singleShot(0, box.open)
