"""Importing an OpenAPI spec as a service: the files `import-openapi` and the designer write.

A plan is made first (the spec read, the service file's text and, if asked, the mocks from the
spec's examples), so a caller can say what exists before anything is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.core.expressions import escape_templates
from engine.core.model import MockResponse, MocksFile
from engine.core.names import SERVICE_RE
from engine.files.documents import dump_mocks, save_text_atomic
from engine.files.folder import MOCKS_SUFFIX, SERVICE_SUFFIX
from engine.files.openapi import OpenApiSpec, load_openapi, mock_body
from engine.files.services import ServiceFile, dump_service

__all__ = ["ServiceImport", "plan_service_import", "mocks_from_spec", "check_service_name"]


@dataclass
class ServiceImport:
    """What importing `spec` as `service` into a folder writes: (path, text) pairs."""

    service: str
    spec: OpenApiSpec
    files: list[tuple[Path, str]] = field(default_factory=list)
    base_url: str | None = None

    @property
    def service_file(self) -> Path:
        return self.files[0][0]

    @property
    def mocks_file(self) -> Path | None:
        return self.files[1][0] if len(self.files) > 1 else None

    def existing(self) -> list[Path]:
        """The files that would be overwritten."""
        return [p for p, _ in self.files if p.exists()]

    def write(self) -> list[Path]:
        """Write every file atomically; raises OSError (the files before it stay written)."""
        for path, text in self.files:
            save_text_atomic(path, text)
        return [p for p, _ in self.files]


def check_service_name(name: str) -> str | None:
    """Why `name` cannot be a service name, or None."""
    if SERVICE_RE.match(name):
        return None
    return f"'{name}' is not a service name: letters, digits, '_' and '-', starting with a letter"


def mocks_from_spec(spec: OpenApiSpec, service: str) -> MocksFile:
    """A mock per operation: its first 2xx response, with the spec's example as the body."""
    mocks = MocksFile()
    for op in spec.operations.values():
        found = mock_body(op)
        if found is not None:
            status, body = found
            mocks.mocks[f"{service}.{op.operation_id}"] = [
                MockResponse(status=status, body=escape_templates(body))
            ]
    return mocks


def plan_service_import(
    spec_path: str | os.PathLike[str], service: str, folder: str | os.PathLike[str], mocks: bool
) -> ServiceImport:
    """Read the spec and make the files' texts; raises LoadError saying where the spec is
    wrong, ValueError for a bad service name."""
    why = check_service_name(service)
    if why is not None:
        raise ValueError(why)
    spec = load_openapi(spec_path)
    folder = Path(folder)
    # the service file names its spec relative to itself, so the folder can move as a whole
    ref = os.path.relpath(os.path.abspath(spec_path), os.path.abspath(folder))
    base = spec.servers[0] if spec.servers and "://" in spec.servers[0] else None
    plan = ServiceImport(service, spec, base_url=base)
    plan.files.append(
        (
            folder / f"{service}{SERVICE_SUFFIX}",
            dump_service(ServiceFile(service, ref.replace(os.sep, "/"), base)),
        )
    )
    if mocks:
        plan.files.append(
            (folder / f"{service}{MOCKS_SUFFIX}", dump_mocks(mocks_from_spec(spec, service)))
        )
    return plan
