"""Environments, resolved once: how a folder's runs reach their services (FORMAT.md
"Environments"). Every host (the command line, the designer's worker, the server) asks here.

- the environment's `services` give base URLs; any other service is `http://<service>`;
- with mocks and no `services`, every call is mocked (a call without a mock fails, type `mock`);
- with mocks and `services`, the run is hybrid: mocked where a mock exists, live elsewhere;
- with no mocks the run is live.

A `mocks` path passed in (`--mocks`, a tests file's `mocks:`, a recording to replay) replaces the
environment's mocks. With no environments file a run is live, or mocked when a mocks file is
given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.errors import SwitchboardError
from engine.core.model import Environment, EnvironmentsFile, MockResponse, MocksFile, Tls
from engine.core.sizes import DEFAULT_RESPONSE_SIZE
from engine.core.types import Mode
from engine.files.documents import load_environments, load_mocks
from engine.files.folder import (
    ALLOW_OUTSIDE_FLAG,
    ENVIRONMENTS_FILE,
    environments_file,
    files_named,
)
from engine.runtime.wire import HttpSettings

__all__ = [
    "SetupError",
    "EnvironmentInfo",
    "FolderEnvironments",
    "Resolved",
    "mode_of",
    "folder_environments",
    "resolve_environment",
]


class SetupError(SwitchboardError):
    """The files do not make a runnable setup (unknown environment or scenario, …)."""


def mode_of(services: Mapping[str, str], mocks: list[Path]) -> Mode:
    """The one rule: mocks and services are hybrid, mocks alone mock, anything else live."""
    if mocks and services:
        return "hybrid"
    return "mock" if mocks else "live"


@dataclass(frozen=True)
class EnvironmentInfo:
    """One environment of a folder, its paths made absolute."""

    name: str
    mode: Mode
    services: dict[str, str] = field(default_factory=dict)
    mocks: list[Path] = field(default_factory=list)
    notify: list[dict[str, Any]] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    engine: str | None = None  # None/"local": in-process; "temporal"
    temporal: dict[str, str] = field(default_factory=dict)  # address, namespace, taskQueue
    http: HttpSettings = field(default_factory=HttpSettings)


@dataclass(frozen=True)
class FolderEnvironments:
    """A folder's environments file, read: its environments in file order and its default
    (`None` when there is no file, or it names none and holds more than one)."""

    file: Path | None
    environments: list[EnvironmentInfo]
    default: str | None

    def get(self, name: str) -> EnvironmentInfo | None:
        return next((e for e in self.environments if e.name == name), None)

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.environments]


def folder_environments(folder: str | Path, *, allow_outside: bool = False) -> FolderEnvironments:
    """Read the folder's environments file. Raises LoadError when it does not load, SetupError
    when it names a file outside its folder (unless `allow_outside`)."""
    folder = Path(folder)
    path = environments_file(folder)
    if path is None:
        return FolderEnvironments(None, [], None)
    envs: EnvironmentsFile = load_environments(path)
    outside = [w for _, w, inside in files_named(envs, path.parent) if not inside]
    if outside and not allow_outside:
        raise SetupError(
            f"{path}: '{outside[0]}' is outside the folder of the environments "
            "file: keep the files it names there or below it (or pass "
            f"{ALLOW_OUTSIDE_FLAG})"
        )
    out = []
    for name, e in envs.environments.items():
        mocks = [path.parent / p for p in e.mocks]
        out.append(
            EnvironmentInfo(
                name,
                mode_of(e.services, mocks),
                dict(e.services),
                mocks,
                [dict(n) for n in e.notify],
                dict(e.secrets),
                e.engine,
                dict(e.temporal),
                _http_settings(e, path.parent),
            )
        )
    default = envs.default or (out[0].name if len(out) == 1 else None)
    return FolderEnvironments(path, out, default)


def _http_settings(e: Environment, base: Path) -> HttpSettings:
    """The environment's transfer settings, its TLS files made absolute."""
    tls = e.tls or Tls()

    def where(p: str | None) -> str | None:
        return str(base / p) if p else None

    return HttpSettings(
        follow_redirects=bool(e.follow_redirects),
        max_response_bytes=e.max_response_size or DEFAULT_RESPONSE_SIZE,
        ca=where(tls.ca),
        cert=where(tls.cert),
        key=where(tls.key),
        verify=tls.verify,
    )


@dataclass
class Resolved:
    """Where a run's calls go: the environment chosen, its mode and the merged mocks table."""

    name: str | None  # None: no environments file
    mode: Mode
    services: dict[str, str]
    mocks: dict[str, list[MockResponse]] | None  # None: nothing is mocked
    mock_paths: list[Path]
    notify: list[dict[str, Any]]
    secrets: dict[str, str]  # secret NAME -> the variable it is read from
    base_dir: Path  # where the environment's relative paths start
    scenario: str | None = None
    engine: str | None = None  # None/"local": in-process; "temporal": runs go there
    temporal: dict[str, str] = field(default_factory=dict)  # address, namespace, taskQueue
    http: HttpSettings = field(default_factory=HttpSettings)


def _merge_mocks(
    files: list[MocksFile], scenario: str | None, names: list[str]
) -> dict[str, list[MockResponse]]:
    table: dict[str, list[MockResponse]] = {}
    for m in files:
        table.update(m.mocks)
    if scenario:
        found = False
        for m in files:
            if scenario in m.scenarios:
                table.update(m.scenarios[scenario])
                found = True
        if not found:
            known = sorted({s for m in files for s in m.scenarios})
            raise SetupError(
                f"scenario '{scenario}' is not in {', '.join(names)}; "
                f"known scenarios: {', '.join(known) or 'none'}"
            )
    return table


def resolve_environment(
    folder: str | Path,
    env: str | None = None,
    *,
    mocks: str | Path | None = None,
    scenario: str | None = None,
    allow_outside: bool = False,
) -> Resolved:
    """The environment `env` of the folder's environments file (its default when None), with
    `mocks` replacing its mocks files. Raises SetupError (unknown environment or scenario) or
    LoadError (a file that does not load)."""
    folder = Path(folder)
    found = folder_environments(folder, allow_outside=allow_outside)
    info: EnvironmentInfo | None = None
    if found.file is not None:
        name = env or found.default
        if name is None:
            raise SetupError(
                f"{found.file}: name an environment (--env): it has no `default` "
                f"and holds {', '.join(found.names) or 'none'}"
            )
        info = found.get(name)
        if info is None:
            raise SetupError(
                f"{found.file}: there is no environment '{name}'; known: "
                f"{', '.join(found.names) or 'none'}"
            )
    elif env is not None:
        raise SetupError(
            f"environment '{env}' was asked for, but {folder} has no "
            f"{ENVIRONMENTS_FILE}; create one or leave out --env"
        )
    services = dict(info.services) if info else {}
    mock_paths = [Path(mocks)] if mocks is not None else (list(info.mocks) if info else [])
    if scenario and not mock_paths:
        raise SetupError(
            f"scenario '{scenario}' needs a mocks file, but this run has none; "
            "pass --mocks or use an environment with mocks"
        )
    table = None
    if mock_paths:
        table = _merge_mocks(
            [load_mocks(p) for p in mock_paths], scenario, [str(p) for p in mock_paths]
        )
    return Resolved(
        info.name if info else None,
        mode_of(services, mock_paths),
        services,
        table,
        mock_paths,
        list(info.notify) if info else [],
        dict(info.secrets) if info else {},
        found.file.parent if found.file is not None else folder,
        scenario,
        info.engine if info else None,
        dict(info.temporal) if info else {},
        info.http if info else HttpSettings(),
    )
