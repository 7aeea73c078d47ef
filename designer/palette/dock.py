"""The palette dock: services and actions to drag onto the canvas, plus wait, emit and notify.

Services come from the engine's service catalog of the workflow's folder (its mocks files,
keyed `Service.action`) and from the workflow's own call steps. The user can add more by name.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.document.clipboard import STEP_MIME
from designer.palette.operations import operation_entry
from designer.shared import theme
from engine import ServiceCatalog, Workflow, catalog_for, parse_target

__all__ = ["STEP_MIME", "PaletteWidget"]

_PAYLOAD_ROLE = Qt.ItemDataRole.UserRole + 1


class _PaletteTree(QTreeWidget):
    """A tree whose leaf items drag out as step payloads (JSON under STEP_MIME)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # not uniform: an operation's entry has a second line (method, path, summary)

    def mimeTypes(self) -> list[str]:  # noqa: N802 - Qt override
        return [STEP_MIME]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # noqa: N802 - Qt override
        mime = QMimeData()
        payload = items[0].data(0, _PAYLOAD_ROLE) if items else None
        if payload:
            mime.setData(STEP_MIME, payload.encode("utf-8"))
            mime.setText(payload)
        return mime


class PaletteWidget(QWidget):
    """Filter box, tree of services/actions and step kinds, and an 'add Service.action' box."""

    add_requested = Signal(dict)  # a payload to add at the view centre (double-click or Enter)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter services and actions")
        self.filter_edit.setClearButtonEnabled(True)
        self.tree = _PaletteTree()
        self.new_edit = QLineEdit()
        self.new_edit.setPlaceholderText("New Service.action")
        self.new_edit.setToolTip("Type Service.action and press Enter to add it to the palette")
        self.add_button = QToolButton()
        self.add_button.setToolTip("Add this service and action to the palette")
        self.new_error = QLabel()
        self.new_error.setObjectName("fieldError")
        self.new_error.setWordWrap(True)
        self.new_error.hide()
        self.note = QLabel()
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)
        self.note.hide()

        add_row = QHBoxLayout()
        add_row.setContentsMargins(0, 0, 0, 0)
        add_row.addWidget(self.new_edit, 1)
        add_row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.tree, 1)
        layout.addLayout(add_row)
        layout.addWidget(self.new_error)
        layout.addWidget(self.note)

        self._found = ServiceCatalog()
        self._custom = ServiceCatalog()
        self._source_path: str | None = None
        self._workflow_services: dict[str, list[str]] = {}
        self.filter_edit.textChanged.connect(self.apply_filter)
        self.tree.itemActivated.connect(self._activated)
        self.new_edit.returnPressed.connect(self.add_custom_from_edit)
        self.add_button.clicked.connect(self.add_custom_from_edit)
        self.new_edit.textEdited.connect(lambda _t: self.new_error.hide())
        self.refresh_icons()
        self._rebuild()

    # data -----------------------------------------------------------------------------------
    def set_sources(self, workflow_path: str | None, workflow: Workflow | None) -> None:
        """Re-read the files beside `workflow_path` and merge the workflow's own services."""
        self._source_path = workflow_path
        self._found = catalog_for(workflow_path, None)
        self._workflow_services = workflow.services() if workflow is not None else {}
        self._rebuild()

    def update_workflow(self, workflow: Workflow) -> None:
        """Merge the workflow's services again (no file is read; rebuilt only on a change)."""
        services = workflow.services()
        if services != self._workflow_services:
            self._workflow_services = services
            self._rebuild()

    def services(self) -> dict[str, list[str]]:
        merged = ServiceCatalog()
        for src in (self._found.services, self._workflow_services, self._custom.services):
            for service, actions in src.items():
                target = merged.services.setdefault(service, [])
                known = set(target)
                target.extend(a for a in actions if a not in known)
        return {
            s: sorted(merged.services[s], key=str.lower)
            for s in sorted(merged.services, key=str.lower)
        }

    def add_service_action(self, service: str, action: str) -> None:
        self._custom.add(service, action)
        self._rebuild()
        self.select_payload({"kind": "call", "service": service, "action": action})

    def add_custom_from_edit(self) -> None:
        try:
            service, action = parse_target(self.new_edit.text())
        except ValueError as e:
            self.new_error.setText(str(e))
            self.new_error.show()
            return
        self.new_error.hide()
        self.new_edit.clear()
        self.add_service_action(service, action)

    # view -----------------------------------------------------------------------------------
    def refresh_icons(self) -> None:
        self.add_button.setIcon(theme.icon("add"))
        self._rebuild()

    def _leaf(
        self, parent: QTreeWidgetItem, label: str, payload: dict[str, Any], icon_name: str, tip: str
    ) -> QTreeWidgetItem:
        item = QTreeWidgetItem(parent, [label])
        item.setIcon(0, theme.icon(icon_name))
        item.setData(0, _PAYLOAD_ROLE, json.dumps(payload))
        item.setToolTip(0, tip)
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        )
        return item

    def _rebuild(self) -> None:
        collapsed = {
            self.tree.topLevelItem(i).text(0)
            for i in range(self.tree.topLevelItemCount())
            if not self.tree.topLevelItem(i).isExpanded()
        }
        self.tree.clear()
        basics = QTreeWidgetItem(self.tree, ["Steps"])
        basics.setFlags(Qt.ItemFlag.ItemIsEnabled)
        for kind, tip in (
            ("wait", "Pause for a duration"),
            ("emit", "Publish an event on the event bus"),
            ("notify", "Send a notification to the dispatcher"),
        ):
            self._leaf(
                basics,
                kind,
                {"kind": kind},
                kind,
                f"{tip}. Drag onto the canvas or double-click to add.",
            )
        for service, actions in self.services().items():
            group = QTreeWidgetItem(self.tree, [service])
            group.setIcon(0, theme.icon("service"))
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for action in actions:
                entry = operation_entry(self._found, service, action)
                if entry is not None:
                    self._leaf(group, *entry)
                    continue
                self._leaf(
                    group,
                    action,
                    {"kind": "call", "service": service, "action": action},
                    "call",
                    f"{service}.{action}: drag onto the canvas or double-click to add a call step.",
                )
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            top.setExpanded(top.text(0) not in collapsed)
        notes = self._found.unreadable
        self.note.setText("Could not read: " + "; ".join(notes) if notes else "")
        self.note.setVisible(bool(notes))
        self.apply_filter(self.filter_edit.text())

    def apply_filter(self, text: str) -> None:
        """Show the entries whose `Service.action` (or kind) holds `text`, case-insensitively;
        an operation's method, path and summary count too."""
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            any_shown = False
            for j in range(group.childCount()):
                leaf = group.child(j)
                full = f"{group.text(0)}.{leaf.text(0)}".lower()
                shown = not needle or needle in full
                leaf.setHidden(not shown)
                any_shown = any_shown or shown
            group.setHidden(not any_shown)
            if needle and any_shown:
                group.setExpanded(True)

    def visible_entries(self) -> list[str]:
        """`Service.action` (or the kind, for wait/emit/notify) of every entry shown."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            if group.isHidden():
                continue
            for j in range(group.childCount()):
                leaf = group.child(j)
                if not leaf.isHidden():
                    payload = json.loads(leaf.data(0, _PAYLOAD_ROLE))
                    out.append(
                        f"{payload['service']}.{payload['action']}"
                        if payload["kind"] == "call"
                        else payload["kind"]
                    )
        return out

    def item_for(self, payload: dict[str, Any]) -> QTreeWidgetItem | None:
        """The entry with `payload`; an operation's entry (which carries its step too) is
        also found by its kind, service and action alone."""
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                data = json.loads(group.child(j).data(0, _PAYLOAD_ROLE))
                if {k: data.get(k) for k in payload} == payload:
                    return group.child(j)
        return None

    def expand_service(self, service: str) -> None:
        """Show a service's entries (after an import): expanded, the filter cleared."""
        self.filter_edit.clear()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top.text(0) == service:
                top.setExpanded(True)
                self.tree.scrollToItem(top)

    def select_payload(self, payload: dict[str, Any]) -> None:
        item = self.item_for(payload)
        if item is not None:
            self.tree.setCurrentItem(item)
            self.tree.scrollToItem(item)

    def mime_for(self, payload: dict[str, Any]) -> QMimeData:
        """The drag data a palette entry carries (what a drop on the canvas receives)."""
        item = self.item_for(payload)
        if item is None:
            raise KeyError(f"no palette entry for {payload}")
        return self.tree.mimeData([item])

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        payload = item.data(0, _PAYLOAD_ROLE)
        if payload:
            self.add_requested.emit(json.loads(payload))
