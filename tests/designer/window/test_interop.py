"""Interop in the designer: Import OpenAPI and its palette operations (the Petstore built by
mouse and run on mocks from its examples), Export as / Open a Serverless Workflow file."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from designer.palette.openapi_dialog import OpenApiImportDialog, service_name_from_title
from designer.window.problems import LoadProblemsDialog
from engine import CallStep, Workflow
from engine.cli import main
from tests.designer.run_support import ui_factory, wait_run
from tests.designer.window_support import WORKFLOWS, make_window
from tests.designer.x11 import run_under_x

REPO = Path(__file__).resolve().parents[3]
PETSTORE = REPO / "tests" / "data" / "openapi" / "petstore.openapi.yaml"
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def open_ui(qtbot, tmp_path):
    yield from ui_factory(qtbot, tmp_path)


def _drop_from_palette(window, service: str, action: str, at: QPoint) -> None:
    """What a drag from the palette delivers: the tree's own drag data, entered, moved and
    dropped on the canvas's viewport."""
    palette = window.palette_widget
    item = palette.item_for({"kind": "call", "service": service, "action": action})
    assert item is not None, palette.visible_entries()
    mime = palette.tree.mimeData([item])
    vp = window.view.viewport()
    args = (Qt.DropAction.CopyAction, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(at, *args)
    QTest.qWait(0)
    window.view.dragEnterEvent(enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(at, *args)
    window.view.dragMoveEvent(move)
    drop = QDropEvent(QPointF(at), *args)
    window.view.dropEvent(drop)
    assert drop.isAccepted()
    assert vp.isVisible()


def _mouse_drag(view, a: QPoint, b: QPoint, steps: int = 8) -> None:
    vp = view.viewport()
    QTest.mousePress(vp, LEFT, Qt.KeyboardModifier.NoModifier, a)
    for k in range(1, steps + 1):
        QTest.mouseMove(vp, a + (b - a) * (k / steps))
    QTest.mouseRelease(vp, LEFT, Qt.KeyboardModifier.NoModifier, b)


def _port(view, sid: str, output: bool) -> QPoint:
    return view.mapFromScene(view.canvas.nodes[sid].port_scene_pos(output))


def _import_petstore(qtbot, window, spec: Path) -> OpenApiImportDialog:
    """File → Import OpenAPI…, typed in like a user: the spec, then the service name."""
    window.interop.import_openapi.trigger()
    dialog = window.dialog
    assert isinstance(dialog, OpenApiImportDialog)
    qtbot.keyClicks(dialog.spec_edit, str(spec))
    dialog.spec_edit.editingFinished.emit()  # what leaving the field does
    assert dialog.service_edit.text() == "SwaggerPetstore"  # from the spec's title
    assert dialog.operations.topLevelItemCount() == 3
    dialog.service_edit.selectAll()
    qtbot.keyClicks(dialog.service_edit, "Petstore")
    assert "Writes Petstore.service.yaml, Petstore.mocks.yaml" in dialog.message.text()
    qtbot.mouseClick(dialog.ok_button, LEFT)
    return dialog


def test_petstore_built_with_the_mouse_runs_on_mocks_from_its_examples(
    qtbot, open_ui, tmp_path, capsys
):
    specs, flows = tmp_path / "specs", tmp_path / "flows"
    specs.mkdir()
    flows.mkdir()
    spec = specs / PETSTORE.name
    shutil.copy(PETSTORE, spec)
    (flows / "environments.yaml").write_text(
        "version: 1\ndefault: mock\nenvironments:\n  mock:\n    mocks: [Petstore.mocks.yaml]\n",
        encoding="utf-8",
    )
    wf_path = flows / "pets.yaml"
    wf_path.write_text("version: 1\nname: pets\nsteps: []\n", encoding="utf-8")
    ui = open_ui(wf_path)
    window = ui.window
    window.show()

    _import_petstore(qtbot, window, spec)
    assert window.dialog is None
    service = yaml.safe_load((flows / "Petstore.service.yaml").read_text())
    assert service["openapi"] == "../specs/petstore.openapi.yaml"
    mocks = yaml.safe_load((flows / "Petstore.mocks.yaml").read_text())
    assert mocks["mocks"]["Petstore.showPetById"]["body"] == {"id": 1, "name": "Rex", "tag": "dog"}

    # the palette lists each operation under its service: id, method, path and summary
    palette = window.palette_widget
    assert palette.services()["Petstore"] == ["createPets", "listPets", "showPetById"]
    item = palette.item_for({"kind": "call", "service": "Petstore", "action": "listPets"})
    assert item.text(0) == "listPets\nGET /pets · List all pets"
    assert "Info for a specific pet" in palette.item_for(
        {"kind": "call", "service": "Petstore", "action": "showPetById"}
    ).toolTip(0)
    qtbot.keyClicks(palette.filter_edit, "/pets/")  # the filter reads the path too
    assert palette.visible_entries() == ["Petstore.showPetById"]
    palette.filter_edit.clear()

    # drag two operations onto the canvas, then connect them with the mouse
    view = window.view
    _drop_from_palette(window, "Petstore", "listPets", QPoint(150, 150))
    _drop_from_palette(window, "Petstore", "showPetById", QPoint(500, 300))
    doc = window.document
    show = doc.workflow.step("showPetById")
    assert isinstance(show, CallStep)
    assert (show.method, show.path) == ("GET", "/pets/${ input.petId }")
    listing = doc.workflow.step("listPets")
    assert (listing.method, listing.path, listing.query) == ("GET", "/pets", None)
    _mouse_drag(view, _port(view, "listPets", True), _port(view, "showPetById", False))
    assert doc.workflow.step("showPetById").after == ["listPets"]
    doc.validate_now()
    assert [p for p in doc.problems if p.severity == "error"] == []

    # a createPets drop carries a body skeleton from the request schema
    _drop_from_palette(window, "Petstore", "createPets", QPoint(150, 420))
    assert doc.workflow.step("createPets").with_ == {"id": 0, "name": ""}
    window.act.undo.trigger()
    assert "createPets" not in doc.workflow.ids

    # save (File → Save) and run on the mock environment from the run tool bar
    window.act.save.trigger()
    assert not doc.modified
    ui.input_editor.set_text('{"petId": 7}')
    assert ui.toolbar.select_environment("mock")
    run_id = ui.run()
    assert run_id is not None, ui.last_message
    rec = wait_run(qtbot, ui, run_id)
    assert rec.result.status == "succeeded", rec.result
    assert rec.result.steps["showPetById"].output == {"id": 1, "name": "Rex", "tag": "dog"}
    assert rec.result.steps["listPets"].output[0]["name"] == "Rex"
    assert {sid: n.state for sid, n in view.canvas.nodes.items()} == {
        "listPets": "succeeded",
        "showPetById": "succeeded",
    }

    # a mock answering the wrong shape: validate names the mocks file's line and column
    text = (flows / "Petstore.mocks.yaml").read_text()
    cut = text.index("Petstore.showPetById:")
    bad = text[:cut] + text[cut:].replace("id: 1", "id: seven", 1)
    (flows / "Petstore.mocks.yaml").write_text(bad, encoding="utf-8")
    line = next(i for i, t in enumerate(bad.splitlines(), 1) if "id: seven" in t)
    col = bad.splitlines()[line - 1].index("seven") + 1
    capsys.readouterr()
    assert main(["validate", str(flows / "Petstore.mocks.yaml")]) == 1
    err = capsys.readouterr()
    assert (
        f"Petstore.mocks.yaml:{line}:{col}: error: mocks.Petstore.showPetById.body.id: "
        "the body of Petstore.showPetById breaks showPetById's 200 response schema at id: "
        "'seven' is not of type 'integer'"
    ) in err.out


def test_import_dialog_says_what_is_wrong_and_what_it_would_overwrite(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, Workflow(name="w"))
    dialog = window.interop.open_import_dialog()
    assert dialog.folder_edit.text() == os.getcwd()  # an unsaved workflow: the current folder
    dialog.folder_edit.setText(str(tmp_path))
    assert not dialog.ok_button.isEnabled()
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.0.0\npaths: [\n", encoding="utf-8")
    dialog.set_spec(str(broken))
    assert not dialog.ok_button.isEnabled()
    assert "broken.yaml:" in dialog.message.text()
    not_spec = tmp_path / "x.yaml"
    not_spec.write_text("swagger: '2.0'\n", encoding="utf-8")
    dialog.set_spec(str(not_spec))
    assert "x.yaml:1:1" in dialog.message.text() and "OpenAPI 3" in dialog.message.text()
    dialog.set_spec(str(PETSTORE))
    dialog.service_edit.setText("9lives")
    dialog.service_edit.textEdited.emit("9lives")
    assert "not a service name" in dialog.message.text()
    assert not dialog.ok_button.isEnabled()
    dialog.service_edit.setText("Pets")
    dialog.service_edit.textEdited.emit("Pets")
    assert dialog.ok_button.isEnabled() and dialog.ok_button.text() == "Import"
    (tmp_path / "Pets.service.yaml").write_text("old", encoding="utf-8")
    dialog.refresh()
    assert dialog.ok_button.text() == "Overwrite"
    assert "Overwrites Pets.service.yaml" in dialog.message.text()
    assert service_name_from_title("2 fast: the API") == "FastTheAPI"


def test_export_writes_a_serverless_file_and_lists_what_has_no_equivalent(qtbot, tmp_path):
    for name in ("policy_change.yaml", "environments.yaml", "policy_change.mocks.yaml"):
        shutil.copy(WORKFLOWS / name, tmp_path / name)
    window = make_window(qtbot, tmp_path / "w")
    assert window.open_path(str(tmp_path / "policy_change.yaml"))
    window.interop.export.trigger()
    dialog = window.dialog
    assert isinstance(dialog, QFileDialog)
    assert dialog.selectedFiles()[0] == str(tmp_path / "policy_change.sw.yaml")
    dialog.fileSelected.emit(str(tmp_path / "policy_change.sw.yaml"))
    dialog.close()
    out = yaml.safe_load((tmp_path / "policy_change.sw.yaml").read_text())
    assert out["document"]["dsl"] == "1.0.3"
    rows = window.problems.tree
    export_rows = [
        rows.topLevelItem(i)
        for i in range(rows.topLevelItemCount())
        if rows.topLevelItem(i).text(0).startswith("Export: ")
    ]
    assert export_rows, "the export's warnings are in Problems"
    # each is located in the workflow's file, by line and column
    assert all(r.text(2).startswith("policy_change.yaml:") for r in export_rows)
    assert any("notify" in r.text(1) for r in export_rows)
    assert "Exported" in window.statusBar().currentMessage()
    assert "http://PolicyService/" in (tmp_path / "policy_change.sw.yaml").read_text()
    # with a live environment chosen in the run tool bar, its base URLs (as export --env)
    assert window.run_ui.toolbar.select_environment("local")
    assert window.interop.export_to(str(tmp_path / "local.sw.yaml"))
    text = (tmp_path / "local.sw.yaml").read_text()
    assert "http://127.0.0.1:8001/" in text and "http://PolicyService/" not in text
    assert "the environment 'local'" in window.statusBar().currentMessage()


def test_export_refuses_a_graph_it_cannot_write_and_says_which_steps(qtbot, tmp_path):
    # a, b in parallel; c after a only; d after a and b: not series-parallel
    wf = yaml.safe_load(
        """
        version: 1
        name: tangle
        steps:
          - {id: a, wait: 1s}
          - {id: b, wait: 1s, after: []}
          - {id: c, wait: 1s, after: [a]}
          - {id: d, wait: 1s, after: [a, b]}
        """
    )
    path = tmp_path / "tangle.yaml"
    path.write_text(yaml.safe_dump(wf), encoding="utf-8")
    window = make_window(qtbot, tmp_path / "w")
    assert window.open_path(str(path))
    target = tmp_path / "tangle.sw.yaml"
    assert not window.interop.export_to(str(target))
    assert not target.exists()
    problems = window.problems.external["Export"]
    assert problems[0].severity == "error" and problems[0].line > 0
    assert "Serverless Workflow cannot write" in problems[0].message


def test_open_a_serverless_file_makes_an_unsaved_workflow_with_its_problems(qtbot, tmp_path):
    sw = tmp_path / "flow.sw.yaml"
    sw.write_text(
        """\
document: {dsl: 1.0.3, namespace: test, name: flow, version: 1.0.0}
do:
  - getPet:
      call: http
      with:
        method: get
        endpoint: http://petstore.example/pets/1
  - pause:
      wait: {seconds: 2}
  - mystery:
      run:
        shell: {command: ls}
""",
        encoding="utf-8",
    )
    window = make_window(qtbot, tmp_path / "w")
    assert window.open_path(str(sw))
    doc = window.document
    assert doc.path is None and doc.modified
    assert "getPet" in doc.workflow.ids and "pause" in doc.workflow.ids
    problems = window.problems.external["Import"]
    assert any(p.line == 11 and p.file == str(sw) for p in problems), problems
    rows = [
        window.problems.tree.topLevelItem(i).text(2)
        for i in range(window.problems.tree.topLevelItemCount())
    ]
    assert any(r.startswith("flow.sw.yaml:11:") for r in rows), rows
    assert "Imported flow.sw.yaml" in window.statusBar().currentMessage()
    assert "Untitled" in window.windowTitle()
    # another file opened: the import's problems go with the workflow they were about
    assert window.open_path(str(WORKFLOWS / "policy_change.yaml"))
    assert window.problems.external == {}


def test_open_a_serverless_file_that_does_not_import_shows_where(qtbot, tmp_path):
    sw = tmp_path / "bad.sw.json"
    sw.write_text(json.dumps({"do": []}), encoding="utf-8")
    window = make_window(qtbot, tmp_path / "w")
    assert not window.open_path(str(sw))
    dialog = window.dialog
    assert isinstance(dialog, LoadProblemsDialog)
    assert any("no 'document' block" in row[3] for row in dialog.rows())


def test_on_a_real_x_server_the_mouse_builds_the_petstore_workflow_that_runs_on_its_mocks(
    tmp_path, capsys
):
    """The must-show with a user's real mouse: xdotool drags two operations out of the palette
    (a real QDrag over X's drag and drop), connects them port to port and types Ctrl+S, on
    Xvfb; the saved file then runs on the mocks generated from the spec's examples."""
    shutil.copy(PETSTORE, tmp_path / "petstore.openapi.yaml")
    flows = tmp_path / "flows"
    flows.mkdir()
    spec = tmp_path / "petstore.openapi.yaml"
    assert (
        main(
            ["import-openapi", str(spec), "--service", "Petstore", "--into", str(flows), "--mocks"]
        )
        == 0
    )
    (flows / "pets.yaml").write_text("version: 1\nname: pets\nsteps: []\n", encoding="utf-8")
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed")
    got = run_under_x("tests.designer.x11_palette_drag", str(flows), timeout=120)
    assert got["platform"] == "xcb"
    assert got["steps"] == {
        "listPets": {"after": [], "path": "/pets"},
        "showPetById": {"after": ["listPets"], "path": "/pets/${ input.petId }"},
    }
    assert got["saved"]
    capsys.readouterr()
    code = main(
        [
            "run",
            str(flows / "pets.yaml"),
            "--mocks",
            str(flows / "Petstore.mocks.yaml"),
            "--input",
            '{"petId": 1}',
            "--json",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == 0, result
    assert result["steps"]["showPetById"]["output"] == {"id": 1, "name": "Rex", "tag": "dog"}


def test_a_serverless_file_dropped_on_the_window_is_imported(qtbot, tmp_path):
    from PySide6.QtCore import QMimeData, QUrl

    sw = tmp_path / "drop.sw.json"
    sw.write_text(
        json.dumps(
            {
                "document": {"dsl": "1.0.3", "namespace": "t", "name": "dropped", "version": "1"},
                "do": [{"pause": {"wait": {"seconds": 1}}}],
            }
        ),
        encoding="utf-8",
    )
    window = make_window(qtbot, tmp_path / "w")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sw))])
    args = (Qt.DropAction.CopyAction, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPoint(50, 50), *args)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    window.dropEvent(QDropEvent(QPointF(50, 50), *args))
    assert window.document.workflow.ids == ["pause"]
    assert window.document.path is None and window.document.modified
