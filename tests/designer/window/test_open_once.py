"""Opening a file reads, parses and checks it once and writes its YAML once (the window, a
screenshot of it, and a file with problems), and what it shows is what a second look finds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import designer.document.workflow_document as document_module
import engine.files.documents as documents_module
from designer import command as design_command
from tests.designer.window_support import WORKFLOWS, make_window


@pytest.fixture
def counts(monkeypatch) -> Iterator[Callable[[str, str, Callable[[], object]], Counter[str]]]:
    """`counts(path, name, action)`: how many times `action` parsed the file at `path` and wrote
    and validated the workflow called `name` (the palette reads the folder's other files)."""
    seen: Counter[str] = Counter()
    watched = {"path": "", "name": ""}

    def wrap(module: object, attr: str, what: str, mine: Callable[..., bool]) -> None:
        original = getattr(module, attr)

        def counting(*args, **kwargs):
            if mine(*args, **kwargs):
                seen[what] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, attr, counting)

    wrap(documents_module, "read_yaml", "parse", lambda text, file="": file == watched["path"])
    wrap(
        documents_module, "check_workflow", "validate", lambda c, wf, *a: wf.name == watched["name"]
    )
    wrap(document_module, "validate_workflow", "validate", lambda wf: wf.name == watched["name"])
    wrap(document_module, "dump_workflow", "write", lambda wf: wf.name == watched["name"])

    def count(path: str, name: str, action: Callable[[], object]) -> Counter[str]:
        watched.update(path=str(Path(path).resolve()), name=name)
        seen.clear()
        seen.update({"parse": 0, "write": 0, "validate": 0})
        action()
        return Counter(seen)

    yield count


def _a_file_with_a_problem(tmp_path: Path) -> Path:
    # written by hand (not as the designer writes it), with a step that reads a missing one
    path = tmp_path / "flow.yaml"
    path.write_text(
        "version: 1\nname: flow\nsteps:\n"
        "  - {id: a, service: S, action: x}\n"
        "  - id: b\n    after: [a]\n    notify: {message: '${ steps.nope.output }'}\n"
    )
    return path


def test_opening_a_file_parses_writes_and_validates_it_once(qtbot, tmp_path, counts):
    window = make_window(qtbot, tmp_path)
    path = str(WORKFLOWS / "policy_change.yaml")
    name = "policyChange"
    assert counts(path, name, lambda: window.open_path(path)) == {
        "parse": 1,
        "write": 1,
        "validate": 1,
    }
    assert window.document.workflow.name == name
    assert window.document.problems == []
    # nothing is left waiting to check it again
    after = counts(path, name, lambda: qtbot.wait(400))
    assert after == {"parse": 0, "write": 0, "validate": 0}
    # the YAML tab, hidden while it opened, shows the file when it is shown
    window.tabs.setCurrentWidget(window.yaml_view)
    text = window.document.yaml_text()
    qtbot.waitUntil(lambda: window.yaml_view.toPlainText() == text)
    assert "name: policyChange" in text


def test_problems_of_a_file_written_by_hand_stand_where_the_saved_text_has_them(
    qtbot, tmp_path, counts
):
    window = make_window(qtbot, tmp_path)
    path = _a_file_with_a_problem(tmp_path)
    seen = counts(str(path), "flow", lambda: window.open_path(str(path)))
    # the text it will be saved as differs from the file, so its problems are found again in
    # that text (parsed under the same name); the YAML is still written once
    assert seen == {"parse": 2, "write": 1, "validate": 2}
    shown = [(p.message, p.line, p.col) for p in window.document.problems]
    assert shown and any("nope" in m for m, _, _ in shown)
    # the same as a fresh check of the text as saved
    window.document._checked = None
    window.document.validate_now()
    assert [(p.message, p.line, p.col) for p in window.document.problems] == shown


def test_a_canonical_file_with_problems_is_checked_once(qtbot, tmp_path, counts):
    window = make_window(qtbot, tmp_path)
    first = _a_file_with_a_problem(tmp_path)
    assert window.open_path(str(first))
    window.save()  # now the file reads as it will be saved
    seen = counts(str(first), "flow", lambda: window.open_path(str(first)))
    assert seen == {"parse": 1, "write": 1, "validate": 1}
    assert any("nope" in p.message and p.line for p in window.document.problems)


def test_a_screenshot_parses_writes_and_validates_the_file_once(qapp, tmp_path, capsys, counts):
    out = tmp_path / "shot.png"
    path = str(WORKFLOWS / "policy_change.yaml")
    codes: list[int] = []
    seen = counts(
        path,
        "policyChange",
        lambda: codes.append(design_command.main([path, "--screenshot", str(out)])),
    )
    assert codes == [0] and out.exists()
    assert seen == {"parse": 1, "write": 1, "validate": 1}
    assert "wrote" in capsys.readouterr().out
