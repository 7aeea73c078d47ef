"""The engine's exceptions and the `Problem` record that validation reports.

Exception hierarchy::

    SwitchboardError                 base of everything the engine raises on purpose
    ├── LoadError                    a file could not be read or parsed; carries `problems`
    ├── ValidationError              a document loaded but is not valid; carries `problems`
    └── RunError                     raised inside a run; `type` is one of the spec's error types
        ├── StepFailed               a step ended in failure (http, timeout, connection, mock, …)
        ├── ExpressionError          a `${ }` expression failed at run time
        ├── SecretMissing            a named secret is not set
        └── InputInvalid             the run input does not match the workflow's input schema

A `Problem` is one finding about a file: where it is (file, line, column, path inside the
document) and what to do about it. Loaders and validation collect problems rather than stopping
at the first one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Problem",
    "SwitchboardError",
    "LoadError",
    "ValidationError",
    "RunError",
    "StepFailed",
    "ExpressionError",
    "SecretMissing",
    "InputInvalid",
    "format_path",
    "Collector",
    "PathT",
]

PathT = tuple[str | int, ...]  # a place inside a document: ("steps", 2, "retry", "attempts")


def format_path(path: tuple[str | int, ...] | list[str | int]) -> str:
    """`("steps", 2, "retry", "attempts")` -> `steps[2].retry.attempts`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Problem:
    """One finding about a document. `line` and `col` are 1-based; 0 means unknown."""

    message: str
    path: tuple[str | int, ...] = ()
    file: str = ""
    line: int = 0
    col: int = 0
    step_id: str | None = None
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line:
            where += f":{self.line}:{self.col}"
        loc = format_path(self.path)
        return f"{where}: {loc + ': ' if loc else ''}{self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "path": format_path(self.path),
            "step": self.step_id,
            "severity": self.severity,
            "message": self.message,
        }


class Collector:
    """Collects problems by path while a document is parsed or validated."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, PathT, bool, str | None, str]] = []
        # model step index -> index in the file's `steps` list (they differ when a step
        # could not be parsed at all)
        self.step_index: list[int] | None = None

    def add(
        self,
        message: str,
        path: PathT,
        *,
        key: bool = False,
        step: str | None = None,
        severity: str = "error",
    ) -> None:
        self.problems.append((message, path, key, step, severity))

    def located(self, locate: Callable[..., tuple[int, int]] | None, file: str) -> list[Problem]:
        out = []
        for message, path, key, step, severity in self.problems:
            line, col = locate(path, key=key) if locate else (0, 0)
            out.append(Problem(message, path, file, line, col, step, severity))
        return out


class SwitchboardError(Exception):
    """Base of every error the engine raises on purpose."""


class LoadError(SwitchboardError):
    """A file could not be read or parsed as YAML of the expected shape."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ValidationError(SwitchboardError):
    """A document loaded but breaks the format's rules."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RunError(SwitchboardError):
    """An error inside a run. `type` is one of the run result's error types."""

    type = "error"

    def __init__(
        self,
        message: str,
        *,
        step: str | None = None,
        status: int | None = None,
        type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.step = step
        self.status = status
        if type is not None:
            self.type = type

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, "status": self.status}


class StepFailed(RunError):
    """A step's call failed: `type` is http, timeout, connection or mock."""


class ExpressionError(RunError):
    type = "expression"


class SecretMissing(RunError):
    type = "secret"


class InputInvalid(RunError):
    type = "input"
