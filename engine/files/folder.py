"""The folder convention, in one place: which file beside a workflow is which.

A project folder holds workflows (`*.yaml`), their mocks (`<name>.mocks.yaml`), tests
(`<name>.tests.yaml`), recordings of live runs (`<name>.recorded.mocks.yaml`, a mocks file) and
one environments file (`environments.yaml`), and service descriptions of imported OpenAPI specs
(`<service>.service.yaml`). Each also may end in `.yml`. Everything that looks
for one of these files asks this module, so the command line, the designer and the server agree
on what a folder holds.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from engine.core.model import EnvironmentsFile

__all__ = [
    "FileKind",
    "TESTS_SUFFIX",
    "YAML_SUFFIXES",
    "ENVIRONMENTS_FILE",
    "kind_from_name",
    "environments_file",
    "workflow_files",
    "mocks_files",
    "tests_files",
    "find_tests_files",
    "service_files",
    "SERVICE_SUFFIX",
    "MOCKS_SUFFIX",
    "yaml_files",
    "recording_path",
    "tests_path",
    "untitled_path",
    "is_hidden_below",
    "files_named",
    "ALLOW_OUTSIDE_FLAG",
    "SERVERLESS_SUFFIX",
    "is_serverless_name",
]

ALLOW_OUTSIDE_FLAG = "--allow-outside-files"  # how a user lets an environment name any file

FileKind = Literal["workflow", "mocks", "environments", "tests", "service"]

YAML_SUFFIXES = (".yaml", ".yml")
ENVIRONMENTS_FILE = "environments.yaml"  # the name new environments files get
_ENVIRONMENTS_NAMES = ("environments.yaml", "environments.yml")
_MOCKS_ENDS = (".mocks.yaml", ".mocks.yml")
MOCKS_SUFFIX = _MOCKS_ENDS[0]  # how a new mocks file's name ends
_TESTS_ENDS = (".tests.yaml", ".tests.yml")
TESTS_SUFFIX = _TESTS_ENDS[0]  # how a tests file's name ends, for messages
_RECORDED = ".recorded.mocks.yaml"
_SERVICE_ENDS = (".service.yaml", ".service.yml")
SERVICE_SUFFIX = _SERVICE_ENDS[0]
# Serverless Workflow documents: what `export --to serverless` writes beside a workflow
_SERVERLESS_ENDS = (".sw.yaml", ".sw.yml", ".sw.json")
SERVERLESS_SUFFIX = _SERVERLESS_ENDS[0]


def is_serverless_name(name: str) -> bool:
    """Whether a file's name says it is a Serverless Workflow document (`x.sw.yaml`)."""
    return name.lower().endswith(_SERVERLESS_ENDS)


def kind_from_name(name: str) -> FileKind | None:
    """The kind a file's name gives it (`x.mocks.yaml` is mocks…); None for a plain `*.yaml`,
    which is a workflow only if its content says so."""
    low = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if low.endswith(_MOCKS_ENDS):
        return "mocks"
    if low.endswith(_TESTS_ENDS):
        return "tests"
    if low.endswith(_SERVICE_ENDS):
        return "service"
    if low in _ENVIRONMENTS_NAMES or low.endswith((".environments.yaml", ".environments.yml")):
        return "environments"
    return None


def environments_file(folder: str | Path) -> Path | None:
    """The folder's environments file (`environments.yaml`, else `environments.yml`), or None."""
    folder = Path(folder)
    for name in _ENVIRONMENTS_NAMES:
        path = folder / name
        if path.is_file():
            return path
    return None


def _yaml_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in YAML_SUFFIXES and p.is_file())


def workflow_files(folder: str | Path) -> list[Path]:
    """The files of a folder that may be workflows: every `*.yaml` that is not a mocks, tests,
    environments, service or Serverless Workflow (`*.sw.yaml`) file by its name."""
    return [
        p
        for p in _yaml_in(Path(folder))
        if kind_from_name(p.name) is None and not is_serverless_name(p.name)
    ]


def mocks_files(folder: str | Path) -> list[Path]:
    """The mocks files of a folder (recordings included), sorted by name."""
    return [p for p in _yaml_in(Path(folder)) if kind_from_name(p.name) == "mocks"]


def tests_files(folder: str | Path) -> list[Path]:
    """The tests files of a folder, sorted by name."""
    return [p for p in _yaml_in(Path(folder)) if kind_from_name(p.name) == "tests"]


def service_files(folder: str | Path) -> list[Path]:
    """The service description files of a folder, sorted by name."""
    return [p for p in _yaml_in(Path(folder)) if kind_from_name(p.name) == "service"]


def is_hidden_below(path: Path, top: Path) -> bool:
    """Whether `path` lies in a hidden folder (`.git`, caches) below `top`."""
    return any(part.startswith(".") for part in path.relative_to(top).parts[:-1])


def find_tests_files(paths: Iterable[str | Path]) -> list[Path]:
    """Tests files among `paths`: files as given, folders searched (below them, hidden folders
    skipped) for tests files. Each file once, in the order found."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(q for q in p.rglob("*.y*ml") if kind_from_name(q.name) == "tests")
            out.extend(q for q in found if not is_hidden_below(q, p))
        else:
            out.append(p)
    seen: set[Path] = set()
    unique = []
    for p in out:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def yaml_files(paths: Iterable[str]) -> tuple[list[Path], list[str]]:
    """The YAML files named or found under the folders named (hidden folders and `*.sw.yaml`
    below them skipped); and a message for each path that does not exist."""
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(
                sorted(
                    q
                    for q in p.rglob("*")
                    if q.suffix in YAML_SUFFIXES
                    and q.is_file()
                    and not is_hidden_below(q, p)
                    # an exported Serverless Workflow document is another format's file
                    and not is_serverless_name(q.name)
                )
            )
        elif p.exists():
            files.append(p)
        else:
            missing.append(f"{raw}: no such file or folder")
    return files, missing


def files_named(
    envs: EnvironmentsFile, base: Path
) -> list[tuple[tuple[str | int, ...], str, bool]]:
    """Every file an environments file names (mocks files, `file:` notification sinks, TLS files):
    (path inside the document, the path as written, whether it stays inside `base`, the folder
    of the environments file, where relative paths start)."""
    top = base.resolve()
    out: list[tuple[tuple[str | int, ...], str, bool]] = []
    for name, env in envs.environments.items():
        for i, m in enumerate(env.mocks):
            where: tuple[str | int, ...] = ("environments", name, "mocks")
            out.append((where + (i,) if len(env.mocks) > 1 else where, m, _inside(top, m)))
        for i, sink in enumerate(env.notify):
            if "file" in sink:
                value = str(sink["file"])
                out.append(
                    (("environments", name, "notify", i, "file"), value, _inside(top, value))
                )
        if env.tls is not None:
            for key in ("ca", "cert", "key"):
                value = getattr(env.tls, key)
                if value:
                    out.append((("environments", name, "tls", key), value, _inside(top, value)))
    return out


def _inside(top: Path, written: str) -> bool:
    target = (top / written).resolve()
    return target == top or top in target.parents


def tests_path(workflow_path: str | Path) -> Path:
    """A workflow's tests file: the one beside it named after it (`<name>.tests.yaml`, or
    `.tests.yml`), or the name a new one gets when there is none."""
    p = Path(workflow_path)
    for end in _TESTS_ENDS:
        candidate = p.with_name(p.stem + end)
        if candidate.is_file():
            return candidate
    return p.with_name(p.stem + TESTS_SUFFIX)


def recording_path(workflow_path: str | Path) -> Path:
    """Where a recorded run of a workflow goes: `<name>.recorded.mocks.yaml` beside it."""
    p = Path(workflow_path)
    return p.with_name(p.stem + _RECORDED)


def untitled_path() -> Path:
    """Where an unsaved workflow "lives" for a run: a folder with no environments file, so the
    run is live with http://<service> URLs (FORMAT.md "Environments")."""
    return Path(tempfile.gettempdir()) / "switchboard-untitled-workflow" / "untitled.yaml"
