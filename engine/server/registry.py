"""The workflows a server serves: every workflow file of DIR, validated as `validate` does.

Each file is parsed with the same reader and rules as `switchboard validate` (plus the folder's
own rule: two workflows may not share a name) and identified by a content hash of its bytes. A
file with errors is listed with its problems and is not run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.errors import LoadError, Problem
from engine.core.model import Workflow
from engine.files.documents import folder_problems, parse_workflow, read_text
from engine.files.folder import workflow_files

__all__ = ["Entry", "Registry", "content_hash"]


def content_hash(data: bytes) -> str:
    """A workflow version's id: the first 16 hex digits of the SHA-256 of the file's bytes."""
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass
class Entry:
    """One workflow file: its name (the file's stem when it does not parse), the model when it
    has no errors, its version hash, its text and every problem found."""

    name: str
    path: Path
    version: str
    text: str
    model: Workflow | None
    problems: list[Problem] = field(default_factory=list)
    stale: bool = False  # the file on disk has problems; this is the version before it

    @property
    def ok(self) -> bool:
        return self.model is not None

    @property
    def trigger(self) -> list[str]:
        return list(self.model.trigger) if self.model is not None else []

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.path.name,
            "version": self.version,
            "trigger": self.trigger,
            "ok": self.ok,
            "stale": self.stale,
            "problems": [p.to_json() | {"text": str(p)} for p in self.problems],
        }


class Registry:
    """The workflows of `folder` by name."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.entries: dict[str, Entry] = {}

    def load(self) -> list[str]:
        """(Re)read every workflow file of the folder and swap the new table in at once. A file
        that now has errors but served before keeps its previous version serving, with the
        new problems shown (`stale`). Returns one line per change, for the log."""
        before = {e.path.resolve(): e for e in self.entries.values()}
        entries: dict[str, Entry] = {}
        known = {}
        for path in workflow_files(self.folder):
            entry, loaded = _read(path)
            if loaded is not None:
                known[path.resolve()] = loaded
            entries[entry.name if entry.name not in entries else path.stem] = entry
        for key, problems in folder_problems(self.folder, known).items():
            for entry in entries.values():
                if entry.path.resolve() == key:
                    entry.problems.extend(problems)
                    entry.model = None
        changes = []
        for name, entry in list(entries.items()):
            old = before.get(entry.path.resolve())
            if not entry.ok and old is not None and old.ok and entry.version != old.version:
                entries.pop(name)
                entries[old.name] = Entry(
                    old.name, old.path, old.version, old.text, old.model, entry.problems, stale=True
                )
                changes.append(
                    f"{entry.path.name}: has problems; version {old.version} keeps serving"
                )
            elif old is None or old.version != entry.version:
                changes.append(
                    f"{entry.path.name}: version {entry.version}"
                    f"{'' if entry.ok else ' (not served: it has problems)'}"
                )
        gone = set(before) - {e.path.resolve() for e in entries.values()}
        changes += [f"{before[k].path.name}: removed" for k in sorted(gone)]
        self.entries = entries
        return changes

    def get(self, name: str) -> Entry | None:
        return self.entries.get(name)

    def runnable(self, name: str) -> Entry | None:
        entry = self.entries.get(name)
        return entry if entry is not None and entry.ok else None

    def listeners(self, event: str) -> list[Entry]:
        """The runnable workflows whose trigger names `event`, in file order."""
        return [e for e in self.entries.values() if e.ok and event in e.trigger]

    @property
    def events(self) -> list[str]:
        return sorted({t for e in self.entries.values() for t in e.trigger})


def _read(path: Path) -> tuple[Entry, Any]:
    try:
        data = read_text(path)
    except LoadError as e:
        return Entry(path.stem, path, "", "", None, list(e.problems)), None
    loaded = parse_workflow(data, str(path))
    model = loaded.model if loaded.ok else None
    name = loaded.model.name if loaded.model is not None and loaded.model.name else path.stem
    return Entry(
        name,
        path,
        content_hash(data),
        data.decode("utf-8", "replace"),
        model,
        list(loaded.problems),
    ), loaded
