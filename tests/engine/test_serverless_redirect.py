"""`followRedirects` in a Serverless Workflow 1.0.3 export is the http call's `redirect` (step >
defaults > environment), schema-valid; the import reads `redirect` back; `maxResponseSize`,
which SW has no key for, is a located warning."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from engine.cli import main
from engine.files.documents import parse_workflow
from engine.files.serverless import export_serverless
from engine.files.serverless_import import import_serverless
from engine.files.yamlread import read_yaml
from engine.files.yamlwrite import dump_data
from tests.engine.test_serverless import REFERENCE, _without_metadata, validator

__all__ = ["validator"]

FLOW = textwrap.dedent(
    """\
    version: 1
    name: hops
    defaults:
      followRedirects: true
    steps:
      - id: said
        service: Api
        action: said
        followRedirects: false
      - id: inherits
        service: Api
        action: inherits
        maxResponseSize: 2MiB
    """
)


def _export(text: str, **kw: Any):  # type: ignore[no-untyped-def]
    loaded = parse_workflow(text, "hops.yaml")
    assert loaded.ok, loaded.problems
    loc = loaded.locator
    assert loc is not None
    return export_serverless(loaded.model, file="hops.yaml", locate=loc.locate, **kw)


def _calls(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["with"] for task in doc["do"] for k, v in task.items()}


def test_follow_redirects_exports_as_redirect_step_over_defaults(validator) -> None:  # type: ignore[no-untyped-def]
    out = _export(FLOW)
    assert out.document is not None
    assert list(validator.iter_errors(out.document)) == []
    calls = _calls(out.document)
    assert calls["said"]["redirect"] is False  # the step's own no
    assert calls["inherits"]["redirect"] is True  # the workflow's defaults
    size = [p for p in out.problems if "maxResponseSize" in p.message]
    assert [(p.line, p.col, p.severity, p.step_id) for p in size] == [
        (13, 22, "warning", "inherits")
    ]
    assert "no Serverless Workflow equivalent" in size[0].message


def test_the_environment_says_when_the_workflow_does_not() -> None:
    plain = "version: 1\nname: plain\nsteps:\n  - {id: a, service: Api, action: a}\n"
    out = _export(plain)
    assert out.document is not None
    assert "redirect" not in _calls(out.document)["a"]  # SW's default, false, is ours too
    followed = _export(plain, follow_redirects=True)
    assert followed.document is not None
    assert _calls(followed.document)["a"]["redirect"] is True
    # the workflow's own `defaults:` win over the environment's
    out = _export(
        FLOW.replace("followRedirects: true", "followRedirects: false"), follow_redirects=True
    )
    assert out.document is not None
    assert _calls(out.document)["inherits"]["redirect"] is False


def test_redirect_imports_as_follow_redirects() -> None:
    out = _export(FLOW)
    bare = _without_metadata(out.document)  # what a document written elsewhere holds
    result = import_serverless(dump_data(bare), "hops.sw.yaml")
    assert result.workflow is not None
    steps = {s.id: s for s in result.workflow.steps}
    assert steps["said"].follow_redirects is False
    assert steps["inherits"].follow_redirects is True
    example = REFERENCE / "examples" / "call-http-redirect.yaml"
    official = import_serverless(example.read_text(), str(example))
    assert official.workflow is not None
    assert [s.follow_redirects for s in official.workflow.steps] == [True]
    bad = {
        "document": {"dsl": "1.0.3", "namespace": "x", "name": "x", "version": "1.0.0"},
        "do": [
            {
                "t": {
                    "call": "http",
                    "with": {"method": "get", "endpoint": "http://h/t", "redirect": "yes"},
                }
            }
        ],
    }
    wrong = import_serverless(dump_data(bad), "bad.sw.yaml")
    assert any("'redirect' must be true or false" in p.message for p in wrong.problems)


def test_export_env_takes_the_environments_follow_redirects(tmp_path: Path) -> None:
    (tmp_path / "environments.yaml").write_text(
        "version: 1\nenvironments:\n  live:\n    services: {Api: 'https://api.example.org'}\n"
        "    followRedirects: true\n"
    )
    src = tmp_path / "plain.yaml"
    src.write_text("version: 1\nname: plain\nsteps:\n  - {id: a, service: Api, action: a}\n")
    dest = tmp_path / "plain.sw.yaml"
    assert main(["export", "--to", "serverless", str(src), "--env", "live", "-o", str(dest)]) == 0
    doc, _ = read_yaml(dest.read_text())
    assert doc["do"][0]["a"]["with"] == {
        "method": "post",
        "endpoint": "https://api.example.org/a",
        "body": "${ $workflow.input }",
        "redirect": True,
    }
    assert main(["export", "--to", "serverless", str(src), "-o", str(dest)]) == 0
    doc, _ = read_yaml(dest.read_text())
    assert "redirect" not in doc["do"][0]["a"]["with"]
