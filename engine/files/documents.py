"""Reading, checking and writing the four file kinds; the entry points everything else uses.

`parse_*` never raise: they return a `Loaded` with the model (or None) and every problem found,
located by file, line and column. `load_*` raise `LoadError` when any error was found.
`check_file` adds the checks that look at other files (an environment's mocks files exist, a
tests file's workflow loads and its scenarios and steps exist); `folder_problems` the checks of
a folder as a whole (two workflows with one name).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from engine.core.errors import Collector, LoadError, Problem
from engine.core.heap import LARGE_LOAD_BYTES, paused_gc
from engine.core.model import CallStep, EnvironmentsFile, MocksFile, TestsFile, Workflow
from engine.core.validate import check_mocks, check_workflow
from engine.files.commented import keep_comments
from engine.files.contracts import contract_problems
from engine.files.folder import (
    ALLOW_OUTSIDE_FLAG,
    environments_file,
    files_named,
    workflow_files,
)
from engine.files.services import ServiceFile, dump_service, parse_service_data
from engine.files.sidecars import (
    detect_kind,
    parse_environments_data,
    parse_mocks_data,
    parse_tests_data,
)
from engine.files.workflow import parse_workflow_data
from engine.files.yamlread import MAX_BYTES, Locator, read_yaml
from engine.files.yamlwrite import dump_environments, dump_mocks, dump_tests, dump_workflow

__all__ = [
    "Loaded",
    "parse_workflow",
    "parse_mocks",
    "parse_environments",
    "parse_tests",
    "parse_service",
    "parse_any",
    "load_workflow",
    "open_workflow",
    "load_mocks",
    "load_environments",
    "load_tests",
    "check_file",
    "folder_problems",
    "dump_workflow",
    "dump_mocks",
    "dump_environments",
    "dump_tests",
    "dump_any",
    "save_text_atomic",
    "read_text",
]

M = TypeVar("M")


@dataclass
class Loaded(Generic[M]):
    """A parsed file: its model (None when it could not be built) and every problem found."""

    file: str
    kind: str
    model: M | None = None
    problems: list[Problem] = field(default_factory=list)
    locator: Locator | None = None
    # True when the model holds everything the file says: only rule problems (a bad reference,
    # a cycle…) and no shape problems (a misspelt key, a wrong type) that the model dropped.
    complete: bool = False
    source: str | None = None  # the text that was read, when `check_file` read it

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        return self.model is not None and not self.errors

    def unwrap_model(self) -> M:
        """The model, problems or not (LoadError only when there is none)."""
        if self.model is None:
            raise LoadError(self.errors or self.problems)
        return self.model

    def unwrap(self) -> M:
        if not self.ok or self.model is None:
            raise LoadError(self.errors or self.problems)
        return self.model


def read_text(path: str | os.PathLike[str], limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or LoadError saying why not.

    Checked before and while reading: a device (`/dev/zero`) or a file that grows is cut off
    at the limit, a FIFO is refused instead of blocking."""
    p = Path(path)
    big = (
        f"the file is larger than {limit / 1048576:g} MiB, the limit (split it, or move "
        "large bodies out of it)"
    )
    try:
        info = p.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):
            raise LoadError(
                [
                    Problem(
                        "this is not a regular file (a device, a pipe or a socket): name a file",
                        (),
                        str(path),
                    )
                ]
            )
        if info.st_size > limit:
            raise LoadError(
                [
                    Problem(
                        f"the file is {info.st_size / 1048576:.1f} MiB; the limit is "
                        f"{limit / 1048576:g} MiB (split it, or move large bodies out of it)",
                        (),
                        str(path),
                        1,
                        1,
                    )
                ]
            )
        with p.open("rb") as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise LoadError([Problem(big, (), str(path), 1, 1)])
        return data
    except FileNotFoundError:
        raise LoadError([Problem("no such file: check the path", (), str(path))]) from None
    except IsADirectoryError:
        raise LoadError([Problem("this is a folder, not a file", (), str(path))]) from None
    except OSError as e:
        raise LoadError([Problem(f"cannot read the file: {e.strerror}", (), str(path))]) from None


def _workflow_parts() -> tuple[Any, Any]:
    holder: dict[str, Any] = {}

    def build(c: Collector, data: Any) -> Workflow | None:
        wf = parse_workflow_data(c, data)
        holder["index"] = c.step_index
        return wf

    def check(c: Collector, wf: Workflow) -> None:
        check_workflow(c, wf, holder.get("index"))

    return build, check


# kind -> () -> (build from data, check of the model or None)
_KINDS: dict[str, Any] = {
    "workflow": _workflow_parts,
    "mocks": lambda: (parse_mocks_data, check_mocks),
    "environments": lambda: (parse_environments_data, None),
    "tests": lambda: (parse_tests_data, None),
    "service": lambda: (parse_service_data, None),
}


def _from_data(
    data: Any, loc: Locator, file: str, kind: str, text: str | bytes = ""
) -> Loaded[Any]:
    if data is None:
        return Loaded(
            file,
            kind,
            None,
            [Problem(f"the file is empty: a {kind} file starts with 'version: 1'", (), file, 1, 1)],
            loc,
        )
    build, check = _KINDS[kind]()
    c = Collector()
    model = build(c, data)
    complete = model is not None and not any(p[4] == "error" for p in c.problems)
    if model is not None and check is not None:
        check(c, model)
    if model is not None and text:
        keep_comments(model, text, loc, c.step_index if kind == "workflow" else None)
    problems = c.located(loc.locate, file)
    problems.sort(key=lambda p: (p.line or 10**9, p.col))
    return Loaded(file, kind, model, problems, loc, complete)


def _parse(text: str | bytes, file: str, kind: str, comments: bool = True) -> Loaded[Any]:
    with paused_gc(len(text) >= LARGE_LOAD_BYTES):
        try:
            data, loc = read_yaml(text, file)
        except LoadError as e:
            return Loaded(file, kind, None, e.problems)
        return _from_data(data, loc, file, kind, text if comments else "")


def parse_workflow(
    text: str | bytes, file: str = "<text>", *, comments: bool = True
) -> Loaded[Workflow]:
    """Parse a workflow's text; `comments=False` leaves its YAML comments out of the model (a
    check that only wants the problems need not find them)."""
    return _parse(text, file, "workflow", comments)


def parse_mocks(text: str | bytes, file: str = "<text>") -> Loaded[MocksFile]:
    return _parse(text, file, "mocks")


def parse_environments(text: str | bytes, file: str = "<text>") -> Loaded[EnvironmentsFile]:
    return _parse(text, file, "environments")


def parse_tests(text: str | bytes, file: str = "<text>") -> Loaded[TestsFile]:
    return _parse(text, file, "tests")


def parse_service(text: str | bytes, file: str = "<text>") -> Loaded[ServiceFile]:
    return _parse(text, file, "service")


def parse_any(text: str | bytes, file: str = "<text>", kind: str | None = None) -> Loaded[Any]:
    """Parse a file of any kind; the kind comes from its name or else its top-level keys (the
    text is read once either way)."""
    if kind is None:
        kind = detect_kind(None, file)
    if kind is not None:
        return _parse(text, file, kind)
    with paused_gc(len(text) >= LARGE_LOAD_BYTES):
        try:
            data, loc = read_yaml(text, file)
        except LoadError as e:
            return Loaded(file, "unknown", None, e.problems)
        return _parse_detected(data, loc, file, text)


def _parse_detected(data: Any, loc: Locator, file: str, text: str | bytes = "") -> Loaded[Any]:
    kind = detect_kind(data, file)
    if kind is None:
        return Loaded(
            file,
            "unknown",
            None,
            [
                Problem(
                    "cannot tell what kind of file this is: a workflow has 'steps', a mocks "
                    "file 'mocks', an environments file 'environments', a tests file 'cases'",
                    (),
                    file,
                    1,
                    1,
                )
            ],
        )
    return _from_data(data, loc, file, kind, text)


def _load(path: str | os.PathLike[str], parser: Any) -> Any:
    loaded = parser(read_text(path), str(path))
    return loaded.unwrap()


def load_workflow(path: str | os.PathLike[str]) -> Workflow:
    """Load and validate a workflow file; raises LoadError listing every error."""
    return _load(path, parse_workflow)  # type: ignore[no-any-return]


def open_workflow(
    path: str | os.PathLike[str], text: str | bytes | None = None
) -> Loaded[Workflow]:
    """Read a workflow for editing: it opens despite rule problems (returned in `problems`),
    so they can be fixed in the designer; raises LoadError when the file does not parse into a
    model that holds all of it (saving such a model would lose what the file says). `text` is
    the file's content when the caller has read it already."""
    loaded = parse_workflow(read_text(path) if text is None else text, str(path))
    if not loaded.complete:
        raise LoadError(loaded.errors or loaded.problems)
    return loaded


def load_mocks(path: str | os.PathLike[str]) -> MocksFile:
    return _load(path, parse_mocks)  # type: ignore[no-any-return]


def load_environments(path: str | os.PathLike[str]) -> EnvironmentsFile:
    return _load(path, parse_environments)  # type: ignore[no-any-return]


def load_tests(path: str | os.PathLike[str]) -> TestsFile:
    return _load(path, parse_tests)  # type: ignore[no-any-return]


def check_file(path: str | os.PathLike[str], *, allow_outside: bool = False) -> Loaded[Any]:
    """Parse any file and run the checks that look at the files it names (which must lie in
    an environments file's folder unless `allow_outside`)."""
    try:
        data = read_text(path)
    except LoadError as e:
        return Loaded(str(path), "unknown", None, e.problems)
    loaded = parse_any(data, str(path))
    loaded.source = data.decode("utf-8-sig", "replace")
    if loaded.model is None or loaded.locator is None:
        return loaded
    base = Path(path).resolve().parent
    extra: list[Problem] = []
    loc = loaded.locator

    def add(message: str, p: tuple[str | int, ...]) -> None:
        extra.append(loc.problem(message, p))

    if loaded.kind == "environments":
        for where, written, inside in files_named(loaded.model, base):
            if not inside and not allow_outside:
                add(
                    f"'{written}' is outside the folder of this environments file: keep the "
                    f"files it names there or below it (or pass {ALLOW_OUTSIDE_FLAG})",
                    where,
                )
            elif where[2] == "mocks" and not (base / written).is_file():
                add(
                    f"the mocks file '{written}' does not exist (paths are relative to this file)",
                    where,
                )
            elif where[2] == "tls" and not (base / written).is_file():
                add(
                    f"the TLS file '{written}' does not exist (paths are relative to this file)",
                    where,
                )
    elif loaded.kind == "tests":
        _check_tests_refs(loaded.model, base, add)
    elif loaded.kind == "workflow" and isinstance(loaded.model, Workflow):
        extra.extend(_unresolved_services(loaded.model, base, loc, loaded.problems))
    extra.extend(contract_problems(base, loaded.kind, loaded.model, loc))
    loaded.problems.extend(extra)
    loaded.problems.sort(key=lambda p: (p.line or 10**9, p.col))
    return loaded


def _unresolved_services(
    wf: Workflow, base: Path, loc: Locator, known: list[Problem]
) -> list[Problem]:
    """Warnings for call steps whose service a live or hybrid environment of the folder gives
    no base URL (nor, when hybrid, a mock): a run there would call http://<service>."""
    env_path = environments_file(base)
    if env_path is None:
        return []
    try:
        envs = load_environments(env_path)
    except (LoadError, OSError):
        return []  # its own problems are reported when it is checked
    out: list[Problem] = []
    index = {s.id: i for i, s in enumerate(wf.steps)}
    step_index = {
        p.step_id: p.path[1]
        for p in known
        if len(p.path) > 1 and p.path[0] == "steps" and isinstance(p.path[1], int)
    }
    for name, env in envs.environments.items():
        if not env.services:
            continue  # fully mocked: a missing mock is reported when it is asked for
        mocked: set[str] = set()
        for rel in env.mocks:
            try:
                mocked.update(load_mocks(env_path.parent / rel).mocks)
            except (LoadError, OSError):
                continue
        kind = "hybrid" if env.mocks else "live"
        for step in wf.steps:
            if not isinstance(step, CallStep) or not step.service:
                continue
            if step.service in env.services or step.target in mocked:
                continue
            i = step_index.get(step.id, index[step.id])
            out.append(
                loc.problem(
                    f"service '{step.service}' has no base URL in environment '{name}' ({kind}): a "
                    f"run there would call http://{step.service}; add it to that environment's "
                    "services" + (" or mock it" if kind == "hybrid" else ""),
                    ("steps", i, "service"),
                    step_id=step.id,
                    severity="warning",
                )
            )
    return out


def _check_tests_refs(tf: TestsFile, base: Path, add: Any) -> None:
    wf: Workflow | None = None
    if tf.workflow:
        wpath = base / tf.workflow
        if not wpath.is_file():
            add(
                f"the workflow '{tf.workflow}' does not exist (paths are relative to this file)",
                ("workflow",),
            )
        else:
            try:
                wf = load_workflow(wpath)
            except LoadError as e:
                add(f"the workflow '{tf.workflow}' does not load: {e.problems[0]}", ("workflow",))
    mocks: MocksFile | None = None
    if tf.mocks:
        mpath = base / tf.mocks
        if not mpath.is_file():
            add(f"the mocks file '{tf.mocks}' does not exist", ("mocks",))
        else:
            try:
                mocks = load_mocks(mpath)
            except LoadError as e:
                add(f"the mocks file '{tf.mocks}' does not load: {e.problems[0]}", ("mocks",))
    for i, case in enumerate(tf.cases):
        if case.scenario and mocks is not None and case.scenario not in mocks.scenarios:
            add(
                f"the scenario '{case.scenario}' is not in {tf.mocks}"
                + (f" (it has: {', '.join(mocks.scenarios)})" if mocks.scenarios else ""),
                ("cases", i, "scenario"),
            )
        if wf is not None:
            for sid in case.expect.steps:
                if wf.find(sid) is None:
                    add(
                        f"expect.steps names '{sid}', which is not a step of {tf.workflow}",
                        ("cases", i, "expect", "steps", sid),
                    )


def dump_any(model: Any, comments: bool = True) -> str:
    """Any model's canonical text, with its YAML comments unless `comments` is False."""
    if isinstance(model, Workflow):
        return dump_workflow(model, comments)
    if isinstance(model, MocksFile):
        return dump_mocks(model, comments)
    if isinstance(model, EnvironmentsFile):
        return dump_environments(model, comments)
    if isinstance(model, TestsFile):
        return dump_tests(model, comments)
    if isinstance(model, ServiceFile):
        return dump_service(model, comments)
    raise TypeError(f"cannot write {type(model).__name__}")


def save_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write a file so that a failure leaves the old one intact (temp file + rename). A
    symbolic link is written through: its target changes, the link stays a link."""
    target = Path(os.path.realpath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_NAME_LINE = re.compile(
    rb"^name:[ \t]*(?:'([^'\n]*)'|\"([^\"\\\n]*)\"|([^'\"#\s|>&*!\[{][^#\n]*?))"
    rb"[ \t]*(?:#[^\n]*)?$",
    re.M,
)


def _plain_name(data: bytes) -> str | None:
    """The workflow name on a top-level `name:` line of a workflow file, or None when it is not
    written plainly there (then the file is parsed)."""
    if b"\nsteps:" not in data and not data.startswith(b"steps:"):
        return None
    found = _NAME_LINE.findall(data)
    if len(found) != 1:
        return None
    raw = next(part for part in found[0] if part) if any(found[0]) else b""
    try:
        return raw.decode("utf-8").strip() or None
    except UnicodeDecodeError:
        return None


def folder_problems(
    folder: str | os.PathLike[str], known: Mapping[Path, Loaded[Any]] | None = None
) -> dict[Path, list[Problem]]:
    """Problems of a folder's workflows taken together, by file: two workflows with one `name`
    (an event would start one of them, and which one would depend on the file names).
    `known` holds files already parsed (by resolved path), so they are not read again."""
    by_name: dict[str, list[tuple[Path, Loaded[Any]]]] = {}
    for path in workflow_files(Path(folder)):
        key = path.resolve()
        loaded = (known or {}).get(key)
        if loaded is None:
            try:
                data = read_text(path)
            except LoadError:
                continue
            # a sibling's name is all that is needed: read it off its top-level `name:` line
            # rather than parsing a 10,000-step file to validate its neighbour
            name = _plain_name(data)
            if name is not None:
                by_name.setdefault(name, []).append((key, Loaded(str(path), "workflow")))
                continue
            loaded = parse_any(data, str(path))
        if loaded.kind == "workflow" and isinstance(loaded.model, Workflow):
            by_name.setdefault(loaded.model.name, []).append((key, loaded))
    out: dict[Path, list[Problem]] = {}
    for name, files in by_name.items():
        if len(files) < 2:
            continue
        for key, loaded in files:
            others = ", ".join(Path(lo.file).name for k, lo in files if k != key)
            message = (
                f"another workflow in this folder is also named '{name}' ({others}): "
                "give each workflow its own name"
            )
            problem = (
                loaded.locator.problem(message, ("name",))
                if loaded.locator is not None
                else Problem(message, ("name",), loaded.file)
            )
            out.setdefault(key, []).append(problem)
    return out
