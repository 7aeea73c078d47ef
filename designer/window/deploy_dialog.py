"""File → Deploy to Server…: the server's URL and token (both remembered in the settings; the
token is shown only as dots and never written to the status bar or a log), then a deploy of
the open workflow. The answer stays in the dialog; the server's problems go to Problems."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from designer.window.settings import AppSettings

__all__ = ["DeployDialog", "SERVER_KEY", "TOKEN_KEY"]

SERVER_KEY = "deploy/server"
TOKEN_KEY = "deploy/token"
DEFAULT_SERVER = "http://127.0.0.1:8080"


class DeployDialog(QDialog):
    """Server URL, token, 'remember the token'; Deploy emits `deploy_requested`."""

    deploy_requested = Signal(str, str)  # server URL, token ('' for none)

    def __init__(self, settings: AppSettings, workflow: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Deploy to Server")
        self.setMinimumWidth(520)
        q = settings.qsettings
        self.server_edit = QLineEdit(str(q.value(SERVER_KEY, DEFAULT_SERVER) or DEFAULT_SERVER))
        self.server_edit.setPlaceholderText(DEFAULT_SERVER)
        self.token_edit = QLineEdit(str(q.value(TOKEN_KEY, "") or ""))
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("a token with the 'deploy' scope (none on loopback)")
        self.remember = QCheckBox("Remember the token on this computer")
        self.remember.setChecked(bool(self.token_edit.text()))
        heading = QLabel(
            f"Deploy <b>{workflow}</b> as it is now (unsaved changes included) to a running "
            "<code>switchboard serve</code>. It is checked there again before it is served."
        )
        heading.setWordWrap(True)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.deploy_button = self.buttons.addButton(
            "&Deploy", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.deploy_button.setDefault(True)
        form = QFormLayout()
        form.addRow("&Server:", self.server_edit)
        form.addRow("&Token:", self.token_edit)
        form.addRow("", self.remember)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.result)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.deploy)
        self.buttons.rejected.connect(self.reject)

    def deploy(self) -> None:
        server = self.server_edit.text().strip()
        if "://" not in server:
            self._show(f"'{server}' is not a server URL: write it as {DEFAULT_SERVER}", False)
            return
        q = self.settings.qsettings
        q.setValue(SERVER_KEY, server)
        token = self.token_edit.text().strip()
        if self.remember.isChecked() and token:
            q.setValue(TOKEN_KEY, token)
        else:
            q.remove(TOKEN_KEY)
        self.deploy_button.setEnabled(False)
        self._show(f"Deploying to {server}…", True)
        self.deploy_requested.emit(server, token)

    def finished_deploy(self, answer: Any) -> None:
        """Show the server's answer (a DeployAnswer)."""
        self.deploy_button.setEnabled(True)
        if answer.ok:
            self._show(f"Deployed: {answer.message}.", True)
        elif answer.problems:
            n = len(answer.problems)
            self._show(
                f"Not deployed: {answer.message}. The {n} problem{'s' if n != 1 else ''} "
                "are in Problems.",
                False,
            )
        else:
            self._show(f"Not deployed: {answer.message}", False)

    def _show(self, text: str, ok: bool) -> None:
        self.result.setText(text)
        self.result.setObjectName("hint" if ok else "fieldError")
        self.result.style().unpolish(self.result)
        self.result.style().polish(self.result)
