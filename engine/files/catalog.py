"""The service catalog: which services and actions a workflow can call, read from its folder.

Services come from the folder's service descriptions (`*.service.yaml`, each operation of its
OpenAPI spec), the mocks files the folder's environments file names, the other mocks files of
the folder (keys are `Service.action`), and the workflow's own call steps. The designer's
palette shows a catalog.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.errors import SwitchboardError
from engine.core.model import Workflow
from engine.files.contracts import described_services
from engine.files.documents import load_environments, load_mocks
from engine.files.folder import environments_file, mocks_files
from engine.files.openapi import OpenApiSpec, Operation, call_step_data

__all__ = ["ServiceCatalog", "catalog_for"]


@dataclass
class ServiceCatalog:
    """Services -> their actions (in the order first seen), the OpenAPI operation behind an
    action where a service description gives one, and the files that could not be read (one
    line each, for a tooltip)."""

    services: dict[str, list[str]] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    operations: dict[str, dict[str, Operation]] = field(default_factory=dict)
    specs: dict[str, OpenApiSpec] = field(default_factory=dict)

    def add_operation(self, service: str, op: Operation, spec: OpenApiSpec | None = None) -> None:
        self.add(service, op.operation_id)
        self.operations.setdefault(service, {})[op.operation_id] = op
        if spec is not None:
            self.specs.setdefault(service, spec)

    def step_data(self, service: str, action: str) -> dict[str, Any] | None:
        """The call step (as a file's step mapping) a drop of `Service.action` makes when an
        operation stands behind it: its method, path, required query and a body skeleton."""
        op = self.operation(service, action)
        spec = self.specs.get(service)
        if op is None or spec is None:
            return None
        return call_step_data(service, op, spec)

    def operation(self, service: str, action: str) -> Operation | None:
        """The operation `Service.action` stands for, if its service has a spec."""
        return self.operations.get(service, {}).get(action)

    def add(self, service: str, action: str) -> None:
        actions = self.services.setdefault(service, [])
        if action not in actions:
            actions.append(action)

    def add_workflow(self, workflow: Workflow) -> None:
        for service, actions in workflow.services().items():
            for action in actions:
                self.add(service, action)


def _mocks_paths(folder: Path, catalog: ServiceCatalog) -> list[Path]:
    """The mocks files the environments file names, then every other mocks file of the folder."""
    found: list[Path] = []
    env_path = environments_file(folder)
    if env_path is not None:
        try:
            envs = load_environments(env_path)
        except (SwitchboardError, OSError) as e:
            catalog.unreadable.append(f"{env_path.name}: {str(e).splitlines()[0]}")
        else:
            for env in envs.environments.values():
                found.extend((folder / rel).resolve() for rel in env.mocks)
    found.extend(p.resolve() for p in mocks_files(folder))
    return list(dict.fromkeys(found))


def catalog_for(
    workflow_path: str | os.PathLike[str] | None, workflow: Workflow | None = None
) -> ServiceCatalog:
    """The catalog of the folder of `workflow_path` (none for an unsaved workflow) and of
    `workflow` itself."""
    catalog = ServiceCatalog()
    if workflow_path:
        folder = Path(os.path.abspath(workflow_path)).parent
        for name, described in described_services(folder).items():
            if described.spec is None:
                catalog.unreadable.append(f"{described.file.name}: {described.error}")
                continue
            for op in described.spec.operations.values():
                catalog.add_operation(name, op, described.spec)
        for path in _mocks_paths(folder, catalog):
            if not path.is_file():
                catalog.unreadable.append(f"{path.name}: file not found")
                continue
            try:
                mocks = load_mocks(path)
            except (SwitchboardError, OSError) as e:
                catalog.unreadable.append(f"{path.name}: {str(e).splitlines()[0]}")
                continue
            keys = list(mocks.mocks)
            for table in mocks.scenarios.values():
                keys.extend(table)
            for key in keys:
                if "." in key:
                    service, action = key.split(".", 1)
                    catalog.add(service, action)
    if workflow is not None:
        catalog.add_workflow(workflow)
    return catalog
