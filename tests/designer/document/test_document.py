"""WorkflowDocument: every edit is one undo step, signals follow, files save atomically."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSaveFile

from designer.document import WorkflowDocument
from engine import (
    CallStep,
    EmitStep,
    LoadError,
    Retry,
    Workflow,
    load_workflow,
    rename_references,
    unique_id,
)
from tests.designer.conftest import small_workflow

WORKFLOWS = Path(__file__).resolve().parents[3] / "workflows"


def workflow_files() -> list[str]:
    return sorted(
        p
        for p in glob.glob(str(WORKFLOWS / "*.yaml"))
        if not p.endswith((".mocks.yaml", ".tests.yaml", "environments.yaml"))
    )


def after(doc: WorkflowDocument, sid: str) -> list[str]:
    return doc.workflow.step(sid).after


# --- edits and undo --------------------------------------------------------------------------


def test_add_step_makes_id_unique_and_undoes(document):
    sid = document.add_step(CallStep(id="check", service="S", action="a"), (10, 20))
    assert sid == "check_2"
    assert document.position("check_2") == (10.0, 20.0)
    assert document.undo_stack.undoText() == "Add step check_2"
    assert document.modified
    document.undo_stack.undo()
    assert document.workflow.find("check_2") is None
    assert not document.modified


def test_connect_refuses_cycle_self_and_duplicate(document):
    assert "cycle" in document.connect_steps("report", "fetch")
    assert "itself" in document.connect_steps("check", "check")
    assert "already" in document.connect_steps("fetch", "check")
    assert document.undo_stack.count() == 0
    assert document.connect_steps("pause", "report") is None
    assert after(document, "report") == ["check", "pause"]
    assert document.undo_stack.undoText() == "Connect pause → report"
    document.undo_stack.undo()
    assert after(document, "report") == ["check"]
    document.undo_stack.redo()
    assert after(document, "report") == ["check", "pause"]


def test_remove_steps_cuts_edges_and_undo_restores_order(document, qtbot):
    with qtbot.waitSignal(document.model.changed):
        document.remove_steps(["check"])
    assert document.workflow.ids == ["fetch", "report", "pause"]
    assert after(document, "report") == []
    assert "check" not in document.workflow.layout
    document.undo_stack.undo()
    assert document.workflow.ids == ["fetch", "check", "report", "pause"]
    assert after(document, "report") == ["check"]
    assert document.position("check") == (240.0, 0.0)


def test_remove_edge_only(document):
    document.remove([], [("check", "report")])
    assert after(document, "report") == []
    assert document.undo_stack.undoText() == "Delete edge check → report"
    document.undo_stack.undo()
    assert after(document, "report") == ["check"]


def test_move_steps_is_one_command(document):
    document.move_steps({"fetch": ((0, 0), (10, 10)), "check": ((240, 0), (250, 10))})
    assert document.undo_stack.count() == 1
    assert document.undo_stack.undoText() == "Move 2 steps"
    document.undo_stack.undo()
    assert document.position("fetch") == (0.0, 0.0)


def test_typing_in_a_field_merges_into_one_undo_step(document):
    for text in ("a", "ab", "abc"):
        document.set_step_field("report", "message", text)
    assert document.undo_stack.count() == 1
    document.set_step_field("check", "timeout", 5000)
    assert document.undo_stack.count() == 2
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert document.workflow.step("report").message == "status ${ steps.check.output.status }"


def test_workflow_field_edits_merge(document, qtbot):
    with qtbot.waitSignal(document.model.workflow_changed):
        document.set_workflow_field("name", "x")
    document.set_workflow_field("name", "xy")
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert document.workflow.name == "sample"


def test_rename_updates_after_layout_and_expressions(document, qtbot):
    document.workflow.output = {"v": "${ steps.check.output }", "s": "'steps.check' stays"}
    with qtbot.waitSignal(document.model.step_renamed) as sig:
        assert document.rename_step("check", "verify") is None
    assert sig.args == ["check", "verify"]
    wf = document.workflow
    assert wf.step("report").after == ["verify"]
    assert wf.step("report").message == "status ${ steps.verify.output.status }"
    assert wf.output == {"v": "${ steps.verify.output }", "s": "'steps.check' stays"}
    assert list(wf.layout) == ["fetch", "verify", "report", "pause"]
    document.undo_stack.undo()
    assert wf.step("report").after == ["check"]
    assert wf.step("report").message == "status ${ steps.check.output.status }"
    assert wf.output["v"] == "${ steps.check.output }"
    assert list(wf.layout) == ["fetch", "check", "report", "pause"]


def test_rename_refusals(document):
    assert "already" in document.rename_step("check", "fetch")
    assert "valid" in document.rename_step("check", "9lives")
    assert document.undo_stack.count() == 0


def test_rename_references_skips_literals_and_longer_ids():
    text = "${ steps.a.output || 'steps.a' } and ${ steps.ab.x } ${ steps . a }"
    assert (
        rename_references(text, "a", "b")
        == "${ steps.b.output || 'steps.a' } and ${ steps.ab.x } ${ steps . b }"
    )
    assert unique_id("x_2", {"x_2", "x_3"}) == "x_4"


def test_paste_makes_ids_unique_and_keeps_inner_edges(document):
    steps = [document.workflow.step("check"), document.workflow.step("report")]
    ids = document.paste(steps, {"check": (240, 0), "report": (480, 0)}, (40, 40))
    assert ids == ["check_2", "report_2"]
    wf = document.workflow
    assert wf.step("check_2").after == []  # fetch was not copied
    assert wf.step("report_2").after == ["check_2"]
    assert wf.step("report_2").message == "status ${ steps.check_2.output.status }"
    assert document.position("report_2") == (520.0, 40.0)
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert wf.ids == ["fetch", "check", "report", "pause"]


def test_auto_layout_is_one_step_and_undoable(document):
    before = {s: document.position(s) for s in document.workflow.ids}
    document.auto_layout()
    assert document.undo_stack.undoText() == "Auto-layout"
    xs = {s: document.position(s)[0] for s in document.workflow.ids}
    assert xs["fetch"] < xs["check"] < xs["report"]
    document.undo_stack.undo()
    assert {s: document.position(s) for s in document.workflow.ids} == before


def test_problems_follow_edits(document, qtbot):
    document.validate_now()
    assert document.problems == []
    with qtbot.waitSignal(document.problems_changed, timeout=2000):
        document.set_step_field("check", "if_", "${ steps.nowhere.output }")
    assert any(p.step_id == "check" for p in document.problems)


# --- files -----------------------------------------------------------------------------------


def test_save_writes_expected_yaml_and_reopens_equal(document, tmp_path):
    document.connect_steps("pause", "report")
    document.set_step_field("check", "retry", Retry(attempts=3))
    path = tmp_path / "sample.yaml"
    document.save(str(path))
    assert not document.modified
    assert document.path == str(path)
    assert (
        path.read_text()
        == """\
version: 1
name: sample
steps:
  - id: fetch
    service: PolicyService
    action: getPolicy
  - id: check
    service: ComplianceService
    action: runCheck
    with:
      v: ${ steps.fetch.output.version }
    retry:
      attempts: 3
  - id: report
    after: [check, pause]
    notify:
      message: status ${ steps.check.output.status }
  - id: pause
    after: []
    wait: 5s
layout:
  fetch: [0, 0]
  check: [240, 0]
  report: [480, 0]
  pause: [0, 160]
"""
    )
    again = WorkflowDocument.open(str(path))
    assert again.workflow == document.workflow
    assert not again.modified


def test_failed_write_leaves_old_file_intact(document, tmp_path, monkeypatch):
    path = tmp_path / "sample.yaml"
    path.write_text("old contents\n")

    class FullDisk(QSaveFile):
        def write(self, data):  # noqa: ANN001 - Qt signature
            return -1

    monkeypatch.setattr("designer.document.workflow_document.QSaveFile", FullDisk)
    document.add_step(EmitStep(event="done"), (0, 300))
    with pytest.raises(OSError, match="left as it was"):
        document.save(str(path))
    assert path.read_text() == "old contents\n"
    assert document.modified
    assert sorted(os.listdir(tmp_path)) == ["sample.yaml"]


def test_save_into_missing_folder_says_why(document, tmp_path):
    with pytest.raises(OSError, match="Cannot save .*missing"):
        document.save(str(tmp_path / "missing" / "x.yaml"))


def test_open_reports_file_line_and_column(tmp_path, qapp):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: x\nsteps:\n  - service: A\n    acton: b\n")
    with pytest.raises(LoadError) as info:
        WorkflowDocument.open(str(bad))
    where = {(p.file, p.line, p.col) for p in info.value.problems if "acton" in p.message}
    assert where == {(str(bad), 5, 5)}


@pytest.mark.parametrize("path", workflow_files(), ids=os.path.basename)
def test_examples_open_and_save_unchanged(path, tmp_path, qapp):
    copy = tmp_path / os.path.basename(path)
    shutil.copyfile(path, copy)
    doc = WorkflowDocument.open(str(copy))
    assert not doc.modified
    doc.save()
    assert copy.read_bytes() == Path(path).read_bytes()


def test_file_without_layout_is_laid_out_but_not_modified(tmp_path, qapp):
    path = tmp_path / "plain.yaml"
    path.write_text(
        "version: 1\nname: plain\nsteps:\n  - service: A\n    action: one\n"
        "  - service: A\n    action: two\n"
    )
    doc = WorkflowDocument.open(str(path))
    assert not doc.modified
    assert doc.position("one")[0] < doc.position("two")[0]
    doc.save()
    assert "layout" not in path.read_text()
    # the first positional edit writes every shown position, so the file matches the canvas
    doc.move_steps({"one": (doc.position("one"), (0, 300))})
    doc.save()
    reopened = load_workflow(str(path))
    assert reopened.layout == {"one": (0, 300), "two": doc.position("two")}
    doc.undo_stack.undo()
    assert doc.workflow.layout == {}


def test_replace_workflow_resets(document, qtbot):
    document.add_step(EmitStep(event="e"), (0, 0))
    with qtbot.waitSignal(document.model.reset):
        document.replace_workflow(Workflow(name="other", steps=[small_workflow().steps[0]]))
    assert document.workflow.ids == ["fetch"]
    assert document.undo_stack.count() == 0 and not document.modified


def test_steps_missing_from_layout_are_placed_below_the_others(tmp_path, qapp):
    path = tmp_path / "partial.yaml"
    path.write_text(
        "version: 1\nname: partial\nsteps:\n  - service: A\n    action: one\n"
        "  - service: A\n    action: two\n  - service: A\n    action: three\n"
        "layout:\n  one: [0, 0]\n"
    )
    doc = WorkflowDocument.open(str(path))
    assert doc.position("one") == (0.0, 0.0)
    two, three = doc.position("two"), doc.position("three")
    assert two[1] > 64 and three[1] > 64 and two[0] < three[0]
    assert not doc.modified and doc.workflow.layout == {"one": (0, 0)}


def test_opening_a_canonical_file_reuses_the_problems_found_reading_it(qapp, tmp_path, monkeypatch):
    import designer.document.workflow_document as document_module

    text = (
        "version: 1\nname: w\nsteps:\n  - service: S\n    action: a\n"
        "    with:\n      v: ${ steps.nope.output }\n"
    )
    path = tmp_path / "w.yaml"
    path.write_text(text)
    doc = WorkflowDocument.open(str(path))
    assert doc.yaml_text() == text  # canonical: it reads as it will be saved
    calls = []
    real = document_module.parse_workflow
    monkeypatch.setattr(
        document_module, "parse_workflow", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    doc.validate_now()
    assert calls == []  # not parsed a second time
    assert [(p.line, p.col) for p in doc.problems] == [(7, 10)]
    assert "steps.nope" in doc.problems[0].message
    doc.set_workflow_field("name", "w2")  # an edit: the new text is checked
    doc.validate_now()
    assert calls == [1] and [(p.line, p.col) for p in doc.problems] == [(7, 10)]
