"""`switchboard run --check-contract`: a live run against a real HTTP server on 127.0.0.1
that answers the Petstore's operations in the wrong shape gets a warning event per mismatch
(step, status, JSON path); off by default; a right answer gets none."""

from __future__ import annotations

import asyncio
import json
import shutil
import textwrap
from pathlib import Path

import pytest

from engine.cli import main
from engine.jobs.contract import json_path
from engine.jobs.request import JobRequest
from engine.jobs.run import run_job
from engine.runtime.events import Event, Notification
from tests.engine.http_support import Answer, RecordingServer, http_server

__all__ = ["http_server"]

PETSTORE = Path(__file__).resolve().parents[1] / "data" / "openapi" / "petstore.openapi.yaml"


def _folder(tmp_path: Path, url: str) -> Path:
    shutil.copy(PETSTORE, tmp_path / "petstore.openapi.yaml")
    assert (
        main(
            [
                "import-openapi",
                str(tmp_path / PETSTORE.name),
                "--service",
                "Petstore",
                "--into",
                str(tmp_path),
            ]
        )
        == 0
    )
    (tmp_path / "environments.yaml").write_text(
        f"version: 1\nenvironments:\n  live:\n    services:\n      Petstore: {url}\n",
        encoding="utf-8",
    )
    (tmp_path / "pets.yaml").write_text(
        textwrap.dedent(
            """\
            version: 1
            name: pets
            steps:
              - service: Petstore
                action: listPets
                method: GET
                path: /pets
              - service: Petstore
                action: showPetById
                method: GET
                path: /pets/${ input.petId }
            """
        ),
        encoding="utf-8",
    )
    return tmp_path


def _wrong(server: RecordingServer) -> None:
    server.answers = [
        Answer(body=json.dumps([{"id": 1, "name": "Rex"}, {"id": "two"}]).encode()),
        Answer(status=418, body=b"{}"),
    ]


def _run(folder: Path, check: bool) -> list[Event]:
    events: list[Event] = []
    request = JobRequest(
        "run", path=folder / "pets.yaml", input={"petId": 7}, env="live", check_contract=check
    )
    outcome = asyncio.run(run_job(request, sinks=[events.append]))
    assert outcome.kind == "run", outcome.message
    return events


def test_each_mismatch_is_a_warning_event_naming_step_status_and_path(
    tmp_path: Path, http_server: RecordingServer
) -> None:
    folder = _folder(tmp_path, http_server.url)
    _wrong(http_server)
    events = _run(folder, check=True)
    assert [s.path for s in http_server.seen] == ["/pets", "/pets/7"]
    warnings = [e for e in events if isinstance(e, Notification) and e.level == "warning"]
    assert [(w.step, w.message) for w in warnings] == [
        (
            "listPets",
            "step listPets: Petstore.listPets answered 200: the body breaks listPets's 200 "
            "response schema at $[1]: 'name' is a required property",
        ),
        (
            "listPets",
            "step listPets: Petstore.listPets answered 200: the body breaks listPets's 200 "
            "response schema at $[1].id: 'two' is not of type 'integer'",
        ),
        # 418 falls under the operation's `default` response (an Error), which `{}` breaks
        (
            "showPetById",
            "step showPetById: Petstore.showPetById answered 418: the body breaks "
            "showPetById's 418 response schema at $: 'code' is a required property",
        ),
        (
            "showPetById",
            "step showPetById: Petstore.showPetById answered 418: the body breaks "
            "showPetById's 418 response schema at $: 'message' is a required property",
        ),
    ]
    assert all(w.run_id == events[0].run_id for w in warnings)


def test_off_by_default_and_quiet_for_a_right_answer(
    tmp_path: Path, http_server: RecordingServer
) -> None:
    folder = _folder(tmp_path, http_server.url)
    _wrong(http_server)
    events = _run(folder, check=False)
    assert not [e for e in events if isinstance(e, Notification) and e.level == "warning"]
    http_server.answers = [
        Answer(body=json.dumps([{"id": 1, "name": "Rex"}]).encode()),
        Answer(body=json.dumps({"id": 7, "name": "Rex", "tag": "dog"}).encode()),
    ]
    events = _run(folder, check=True)
    assert not [e for e in events if isinstance(e, Notification) and e.level == "warning"]


def test_the_command_line_prints_them(
    tmp_path: Path, http_server: RecordingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, http_server.url)
    capsys.readouterr()
    _wrong(http_server)
    code = main(
        [
            "run",
            str(folder / "pets.yaml"),
            "--env",
            "live",
            "--input",
            '{"petId": 7}',
            "--check-contract",
        ]
    )
    out = capsys.readouterr().out
    assert "at $[1].id: 'two' is not of type 'integer'" in out
    assert code in (0, 1)


def test_json_paths() -> None:
    assert json_path(()) == "$"
    assert json_path(("pets", 0, "id")) == "$.pets[0].id"
    assert json_path(("a b",)) == '$["a b"]'


def test_a_front_end_tells_contract_warnings_from_others(
    tmp_path: Path, http_server: RecordingServer
) -> None:
    from engine import is_contract_warning

    folder = _folder(tmp_path, http_server.url)
    _wrong(http_server)
    warnings = [
        e.message
        for e in _run(folder, check=True)
        if isinstance(e, Notification) and e.level == "warning"
    ]
    assert len(warnings) == 4 and all(is_contract_warning(w) for w in warnings)
    assert is_contract_warning(
        "step a: Svc.act answered 500, a status act does not declare (it has 200)"
    )
    for other in (
        "step a is disabled: every run skips it",
        "cascade stopped 16 levels deep",
        "step a: answered 200: not a target",
        "",
    ):
        assert not is_contract_warning(other)


def test_an_emitted_event_checks_the_runs_it_starts(
    tmp_path: Path, http_server: RecordingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """`switchboard emit --check-contract`: the runs the event starts are checked as a run's."""
    folder = _folder(tmp_path, http_server.url)
    pets = folder / "pets.yaml"
    pets.write_text(
        pets.read_text(encoding="utf-8").replace("name: pets\n", "name: pets\ntrigger: petAsked\n"),
        encoding="utf-8",
    )
    events: list[Event] = []
    _wrong(http_server)
    request = JobRequest(
        "emit", folder=folder, event="petAsked", data={"petId": 7}, env="live", check_contract=True
    )
    outcome = asyncio.run(run_job(request, sinks=[events.append]))
    assert outcome.kind == "emit", outcome.message
    warnings = [e for e in events if isinstance(e, Notification) and e.level == "warning"]
    assert len(warnings) == 4
    assert warnings[1].message.endswith("at $[1].id: 'two' is not of type 'integer'")
    assert {w.run_id for w in warnings} == set(outcome.run_ids)

    _wrong(http_server)
    args = ["emit", "petAsked", "--workflows", str(folder), "--env", "live"]
    code = main([*args, "--data", '{"petId": 7}', "--check-contract"])
    assert "at $[1].id: 'two' is not of type 'integer'" in capsys.readouterr().out
    assert code in (0, 1)
    _wrong(http_server)
    main([*args, "--data", '{"petId": 7}'])
    assert "is not of type" not in capsys.readouterr().out  # off by default


def test_a_service_file_it_cannot_read_is_named_not_skipped_silently(
    tmp_path: Path, http_server: RecordingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, http_server.url)
    (folder / "broken.service.yaml").write_text("version: 1\nservice: Broken\n  openapi: [\n")
    _wrong(http_server)
    request = JobRequest(
        "run", path=folder / "pets.yaml", input={"petId": 7}, env="live", check_contract=True
    )
    outcome = asyncio.run(run_job(request))
    assert outcome.kind == "run"
    assert [w for w in outcome.warnings if "broken.service.yaml" in w] == [
        f"{folder / 'broken.service.yaml'}:3:10: YAML syntax error: mapping values are not "
        "allowed in this context; a value holding ': ' must be quoted, or the indentation is "
        "off; --check-contract skips it"
    ]
    _wrong(http_server)
    args = ["run", str(folder / "pets.yaml"), "--env", "live", "--input", '{"petId": 7}']
    main([*args, "--check-contract"])
    captured = capsys.readouterr()
    assert (
        "broken.service.yaml:3:10" in captured.err and "--check-contract skips it" in captured.err
    )
    assert "at $[1].id: 'two' is not of type 'integer'" in captured.out  # the others still are
