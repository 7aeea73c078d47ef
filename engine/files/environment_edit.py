"""Writing a service's base URL into an environment of a folder's environments file (an OpenAPI
import offers its spec's `servers[0].url`: `import-openapi --env`, the designer's dialog).

Planned first, like the service import itself, so the caller can say what changes (a new file,
a new environment, a URL replaced, comments lost) before anything is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import LoadError, Problem
from engine.core.model import Environment, EnvironmentsFile
from engine.files.comments import find_comments
from engine.files.documents import (
    dump_environments,
    parse_environments,
    read_text,
    save_text_atomic,
)
from engine.files.folder import ENVIRONMENTS_FILE, environments_file

__all__ = ["ServiceUrlEdit", "plan_service_url", "environment_names"]


@dataclass
class ServiceUrlEdit:
    """The environments file's new text, and what it changes."""

    path: Path
    text: str
    environment: str
    service: str
    url: str
    new_file: bool = False
    new_environment: bool = False
    replaced: str | None = None  # the URL the service had there
    drops_comments: bool = False  # a comment of the file is not in its new text

    @property
    def unchanged(self) -> bool:
        return self.replaced == self.url

    def describe(self) -> str:
        """One sentence for a dialog or the command line."""
        where = f"'{self.environment}' of {self.path.name}"
        if self.unchanged:
            return f"{where} already has {self.service}: {self.url}"
        what = f"{self.service}: {self.url}"
        if self.new_file:
            text = f"Writes {self.path.name} with the environment '{self.environment}' ({what})"
        elif self.new_environment:
            text = f"Adds the environment '{self.environment}' to {self.path.name} ({what})"
        elif self.replaced is not None:
            text = f"Sets {what} in {where} (was {self.replaced})"
        else:
            text = f"Adds {what} to {where}"
        return text + (" — some of its comments are not kept" if self.drops_comments else "")

    def write(self) -> None:
        """Write the file atomically (raises OSError)."""
        if not self.unchanged:
            save_text_atomic(self.path, self.text)


def _read(folder: Path) -> tuple[Path, EnvironmentsFile | None, str]:
    path = environments_file(folder)
    if path is None:
        return folder / ENVIRONMENTS_FILE, None, ""
    raw = read_text(path)
    loaded = parse_environments(raw, str(path))
    if loaded.model is None or loaded.errors:
        raise LoadError(loaded.errors or loaded.problems)
    return path, loaded.model, raw.decode("utf-8", errors="replace")


def environment_names(folder: str | os.PathLike[str]) -> list[str]:
    """The environments of a folder's file, in its order ([] without one or when it is
    broken: the run tool bar and Problems say what is wrong with it)."""
    try:
        _path, model, _text = _read(Path(folder))
    except (LoadError, OSError):
        return []
    return list(model.environments) if model is not None else []


def _drops_comments(old: str, new: str) -> bool:
    # the writer keeps every comment whose key stays; this says so if one went all the same
    kept = {f.text for f in find_comments(new)}
    return any(f.text not in kept for f in find_comments(old))


def plan_service_url(
    folder: str | os.PathLike[str], environment: str, service: str, url: str
) -> ServiceUrlEdit:
    """`service: url` in `environment` of the folder's environments file (made, with the
    environment, when missing). Raises LoadError when the file is broken, ValueError when the
    result would not load (a bad environment name or URL), saying which."""
    path, model, text = _read(Path(folder))
    edit = ServiceUrlEdit(path, "", environment, service, url)
    if model is None:
        model = EnvironmentsFile()
        edit.new_file = True
    env = model.environments.get(environment)
    if env is None:
        env = model.environments[environment] = Environment()
        edit.new_environment = True
    edit.replaced = env.services.get(service)
    env.services[service] = url
    edit.text = dump_environments(model)
    edit.drops_comments = not edit.unchanged and _drops_comments(text, edit.text)
    check = parse_environments(edit.text, str(path))
    if check.model is None or check.errors:
        raise ValueError(_why(check.errors or check.problems, environment))
    return edit


def _why(problems: list[Problem], environment: str) -> str:
    first = problems[0].message if problems else "it would not load"
    return f"cannot write the environment '{environment}': {first}"
