"""The folder convention in one place: which file is which, and what follows from it for the
service catalog, environments, runs, emit and validate (`.yml` spellings included)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from engine import (
    catalog_for,
    environments_file,
    kind_from_name,
    load_workflow,
    mocks_files,
    parse_target,
    recording_path,
    workflow_files,
)
from engine import (
    tests_files as list_tests_files,
)
from engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.mocks.yaml", "mocks"),
        ("a.mocks.yml", "mocks"),
        ("a.recorded.mocks.yaml", "mocks"),
        ("a.tests.yaml", "tests"),
        ("A.TESTS.YML", "tests"),
        ("environments.yaml", "environments"),
        ("environments.yml", "environments"),
        ("dir/staging.environments.yaml", "environments"),
        ("policy.yaml", None),
        ("policy.yml", None),
    ],
)
def test_kind_from_name(name: str, kind: str | None) -> None:
    assert kind_from_name(name) == kind


def test_a_folder_lists_its_files_by_kind(tmp_path: Path) -> None:
    for name in (
        "b.yaml",
        "a.yml",
        "a.mocks.yml",
        "a.recorded.mocks.yaml",
        "a.tests.yml",
        "environments.yml",
        "notes.txt",
    ):
        (tmp_path / name).write_text("version: 1\n")
    assert [p.name for p in workflow_files(tmp_path)] == ["a.yml", "b.yaml"]
    assert [p.name for p in mocks_files(tmp_path)] == ["a.mocks.yml", "a.recorded.mocks.yaml"]
    assert [p.name for p in list_tests_files(tmp_path)] == ["a.tests.yml"]
    assert environments_file(tmp_path) == tmp_path / "environments.yml"
    (tmp_path / "environments.yaml").write_text("version: 1\n")
    assert environments_file(tmp_path) == tmp_path / "environments.yaml"  # .yaml first
    assert recording_path(tmp_path / "a.yml") == tmp_path / "a.recorded.mocks.yaml"


def test_the_catalog_comes_from_environment_mocks_and_the_workflow() -> None:
    path = WORKFLOWS / "policy_change.yaml"
    found = catalog_for(path, load_workflow(path))
    # policy_change's own services, and those of the other mocks files environments.yaml lists
    assert "updatePolicy" in found.services["PolicyService"]
    assert "revertPolicy" in found.services["PolicyService"]
    assert "dispatchUnit" in found.services["FireService"]
    assert "registerIncident" in found.services["IncidentService"]
    assert found.unreadable == []


def test_a_mocks_file_that_does_not_load_is_named_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "environments.yaml").write_text(
        "version: 1\nenvironments:\n  mock:\n    mocks: [missing.mocks.yaml, bad.mocks.yaml]\n"
    )
    (tmp_path / "bad.mocks.yaml").write_text("version: 1\nmocks: [\n")
    (tmp_path / "good.mocks.yaml").write_text(
        "version: 1\nmocks:\n  Billing.charge: {status: 200}\n"
    )
    found = catalog_for(tmp_path / "w.yaml", None)
    assert found.services == {"Billing": ["charge"]}
    assert any(u.startswith("missing.mocks.yaml") for u in found.unreadable)
    assert any(u.startswith("bad.mocks.yaml") for u in found.unreadable)


def test_a_yml_mocks_file_and_a_yml_environments_file_feed_the_catalog(tmp_path: Path) -> None:
    (tmp_path / "environments.yml").write_text(
        "version: 1\nenvironments:\n  mock:\n    mocks: listed.mocks.yml\n"
    )
    (tmp_path / "listed.mocks.yml").write_text("version: 1\nmocks:\n  Listed.one: {}\n")
    (tmp_path / "other.mocks.yml").write_text("version: 1\nmocks:\n  Other.two: {}\n")
    found = catalog_for(tmp_path / "w.yaml")
    assert found.services == {"Listed": ["one"], "Other": ["two"]}


def test_parse_target() -> None:
    assert parse_target(" Billing.charge ") == ("Billing", "charge")
    with pytest.raises(ValueError, match="Service.action"):
        parse_target("Billing")
    with pytest.raises(ValueError, match="action name"):
        parse_target("Billing.9x")


FLOW = """\
version: 1
name: flow
steps:
  - service: Api
    action: ping
"""


def test_run_uses_an_environments_yml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # validate accepted environments.yml while run ignored it and went live (Cannot connect)
    (tmp_path / "flow.yaml").write_text(FLOW)
    (tmp_path / "m.mocks.yaml").write_text("version: 1\nmocks:\n  Api.ping: {body: {ok: 1}}\n")
    (tmp_path / "environments.yml").write_text(
        "version: 1\ndefault: mock\nenvironments:\n  mock:\n    mocks: m.mocks.yaml\n"
    )
    assert main(["validate", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["run", str(tmp_path / "flow.yaml"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["output"] == {"ping": {"ok": 1}}


TRIGGERED = """\
version: 1
name: {name}
trigger: go
steps:
  - notify: "{text}"
"""


def test_two_workflows_with_one_name_are_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text(TRIGGERED.format(name="same", text="from a"))
    (tmp_path / "b.yaml").write_text(textwrap.dedent(TRIGGERED.format(name="same", text="b")))
    assert main(["validate", str(tmp_path / "a.yaml")]) == 1
    out = capsys.readouterr().out
    assert (
        f"{tmp_path / 'a.yaml'}:2:7: error: name: another workflow in this folder is also "
        "named 'same' (b.yaml)" in out
    )
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "(a.yaml)" in out and "(b.yaml)" in out
    # emit refuses to pick one of them silently
    assert main(["emit", "go", "--workflows", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "two workflows are named 'same'" in err and "a.yaml" in err and "b.yaml" in err


OUTSIDE_ENVS = """\
version: 1
default: mock
environments:
  mock:
    mocks: ../outside.mocks.yaml
    notify: [{file: ../../elsewhere/log.jsonl}]
"""


def test_an_environment_names_files_only_inside_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "flow.yaml").write_text(FLOW)
    (tmp_path / "outside.mocks.yaml").write_text(
        "version: 1\nmocks:\n  Api.ping: {body: {ok: 1}}\n"
    )
    envs = project / "environments.yaml"
    envs.write_text(OUTSIDE_ENVS)
    assert main(["validate", str(envs)]) == 1
    out = capsys.readouterr().out
    assert (
        f"{envs}:5:12: error: environments.mock.mocks: '../outside.mocks.yaml' is outside "
        "the folder of this environments file: keep the files it names there or below it (or "
        "pass --allow-outside-files)" in out
    )
    assert "environments.mock.notify[0].file: '../../elsewhere/log.jsonl' is outside" in out
    assert main(["run", str(project / "flow.yaml")]) == 2
    err = capsys.readouterr().err
    assert "'../outside.mocks.yaml' is outside the folder" in err and "--allow-outside-files" in err
    assert not (tmp_path.parent / "elsewhere").exists()  # no folder was made out there
    envs.write_text(OUTSIDE_ENVS.replace("    notify: [{file: ../../elsewhere/log.jsonl}]\n", ""))
    assert main(["validate", "--allow-outside-files", str(envs)]) == 0
    assert main(["run", "--allow-outside-files", str(project / "flow.yaml")]) == 0


def test_validate_warns_of_a_service_a_live_or_hybrid_environment_does_not_resolve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a service missing from a live environment silently became http://<service>
    (tmp_path / "flow.yaml").write_text(FLOW)
    (tmp_path / "other.mocks.yaml").write_text("version: 1\nmocks:\n  Api.ping: {}\n")
    (tmp_path / "environments.yaml").write_text(
        "version: 1\ndefault: mock\nenvironments:\n  mock: {mocks: other.mocks.yaml}\n"
        "  local: {services: {Billing: 'http://127.0.0.1:9'}}\n"
        "  hybrid: {services: {Billing: 'http://127.0.0.1:9'}, mocks: other.mocks.yaml}\n"
    )
    assert main(["validate", str(tmp_path / "flow.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.strip() == (
        f"{tmp_path / 'flow.yaml'}:4:14: warning: steps[0].service: service 'Api' has no base "
        "URL in environment 'local' (live): a run there would call http://Api; add it to that "
        "environment's services"
    )  # the mock environment and the hybrid one (which mocks Api.ping) are fine


def test_an_exported_serverless_file_beside_the_workflows_is_not_one_of_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`export` (and the designer's File → Export) writes NAME.sw.yaml beside NAME.yaml; a
    folder's validate, serve and catalog left it alone (it was 'cannot tell what kind')."""
    for name in ("policy_change.yaml", "policy_change.mocks.yaml"):
        (tmp_path / name).write_bytes((WORKFLOWS / name).read_bytes())
    assert main(["export", "--to", "serverless", str(tmp_path / "policy_change.yaml")]) == 0
    assert (tmp_path / "policy_change.sw.yaml").is_file()
    assert [p.name for p in workflow_files(tmp_path)] == ["policy_change.yaml"]
    capsys.readouterr()
    assert main(["validate", str(tmp_path)]) == 0
    assert "sw.yaml" not in capsys.readouterr().out
