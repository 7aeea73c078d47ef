"""The files beside a workflow that its runs use: environments, mocks files to replay, their
scenarios, and the workflow's tests file.

Which file is which is the engine's folder convention (`engine.files.folder`); this module only
asks it. Read on the GUI thread when a workflow is opened or saved; the files are small, and a
broken one becomes a problem line for the toolbar's tooltip rather than an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine import (
    ENVIRONMENTS_FILE,
    LoadError,
    folder_environments,
    load_mocks,
    mocks_files,
    tests_path,
)

__all__ = ["EnvChoice", "environment_choices", "scenarios_of", "tests_file_for"]


@dataclass
class EnvChoice:
    """One entry of the environment box: what prepare() is given for it."""

    label: str
    env: str | None  # the environment's name (None: the file's default, or none at all)
    mocks: Path | None = None  # a mocks file that replaces the environment's (a replay)
    mode: str = "live"  # mock | live | hybrid
    mocks_files: list[Path] = field(default_factory=list)  # where its scenarios come from
    engine: str | None = None  # "temporal": its runs go to a Temporal server

    @property
    def can_record(self) -> bool:
        # a recording needs the calls in this process (not on Temporal's workers)
        return self.mode in ("live", "hybrid") and self.engine in (None, "local")


def environment_choices(workflow_path: str | Path | None) -> tuple[list[EnvChoice], int, list[str]]:
    """(choices, the default's index, problems) for a workflow file (None: an unsaved one)."""
    if not workflow_path:
        return [EnvChoice("live (unsaved workflow)", None, mode="live")], 0, []
    folder = Path(workflow_path).parent
    choices: list[EnvChoice] = []
    problems: list[str] = []
    default = 0
    pure_mock: str | None = None
    default_mode = "mock"
    try:
        found = folder_environments(folder)
    except LoadError as e:
        problems += [str(p) for p in e.problems]
        found = None
    except OSError as e:
        problems.append(f"{folder}: cannot read its environments file: {e}")
        found = None
    if found is not None:
        for env in found.environments:
            if env.mode == "mock" and pure_mock is None:
                pure_mock = env.name
            if env.name == found.default:
                default = len(choices)
            where = ""
            if env.engine == "temporal":
                where = f", on Temporal {env.temporal.get('address', '')}"
            choices.append(
                EnvChoice(
                    f"{env.name} ({env.mode}{where})",
                    env.name,
                    None,
                    env.mode,
                    list(env.mocks),
                    env.engine,
                )
            )
        if choices and pure_mock is None:
            default_mode = "hybrid" if choices[default].mode != "mock" else "mock"
    if not choices:
        choices.append(EnvChoice(f"live (no {ENVIRONMENTS_FILE})", None, mode="live"))
        default_mode = "mock"
    for path in mocks_files(folder):
        # replaying a mocks file (a recording): in an environment without services when there
        # is one, so nothing reaches the network; else the default's services fill the gaps
        choices.append(EnvChoice(f"mocks: {path.name}", pure_mock, path, default_mode, [path]))
    return choices, default, problems


def scenarios_of(choice: EnvChoice) -> tuple[list[str], list[str]]:
    """(scenario names, problems) of a choice's mocks files."""
    names: list[str] = []
    problems: list[str] = []
    for path in choice.mocks_files:
        try:
            mocks = load_mocks(path)
        except LoadError as e:
            problems += [str(p) for p in e.problems[:3]]
            continue
        except OSError as e:
            problems.append(f"{path}: cannot read it: {e}")
            continue
        for name in mocks.scenarios:
            if name not in names:
                names.append(name)
    return names, problems


def tests_file_for(workflow_path: str | Path | None) -> Path | None:
    """The tests file beside the workflow and named after it, if there is one."""
    if not workflow_path:
        return None
    path = tests_path(workflow_path)
    return path if path.is_file() else None
