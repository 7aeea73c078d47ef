"""Mocks, environments and tests files: shapes, located problems, canonical round trips."""

from __future__ import annotations

from pathlib import Path

from engine import (
    check_file,
    dump_environments,
    dump_tests,
    parse_any,
    parse_environments,
    parse_mocks,
    parse_tests,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "workflows"


def msgs(loaded) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(p) for p in loaded.problems]


def test_mock_problems_are_located() -> None:
    loaded = parse_mocks(
        """\
version: 1
mocks:
  PolicyService:
    status: 200
  A.b:
    - fault: explode
    - status: 99
    - {fault: timeout, status: 200}
  C.d:
    body: {x: "${ requst.body }"}
    delay: later
scenarios:
  s1:
    A.b: []
""",
        "m.mocks.yaml",
    )
    out = msgs(loaded)
    assert "m.mocks.yaml:3:3: mocks.PolicyService: a mock is keyed 'Service.action'" in out[0]
    joined = "\n".join(out)
    assert (
        "m.mocks.yaml:6:14: mocks.A.b[0].fault: 'fault' must be 'timeout' or 'connection'" in joined
    )
    assert "mocks.A.b[1].status: 'status' must be an HTTP status code" in joined
    assert "a fault response has no status" in joined
    assert "'delay':" in joined
    assert "'requst' is not a name expressions can use" in joined and "'request'" in joined
    assert "an empty list answers nothing" in joined


def test_environments_parse_and_round_trip() -> None:
    text = """\
version: 1
default: mock
environments:
  mock:
    mocks: policy_change.mocks.yaml
  staging:
    services:
      PolicyService: https://policy.staging.example.org
    mocks: notification.mocks.yaml
    notify:
      - webhook: https://hooks.example.org/admin
    secrets:
      API_TOKEN: STAGING_API_TOKEN
"""
    loaded = parse_environments(text)
    assert loaded.problems == []
    ef = loaded.model
    assert ef is not None and ef.default == "mock"
    assert ef.environments["staging"].services == {
        "PolicyService": "https://policy.staging.example.org"
    }
    assert ef.environments["staging"].notify == [{"webhook": "https://hooks.example.org/admin"}]
    assert dump_environments(ef) == text


def test_environment_problems() -> None:
    out = "\n".join(
        msgs(
            parse_environments(
                """\
version: 1
default: prod
environments:
  local:
    services: {PolicyService: "127.0.0.1:8001"}
    notify: [{pager: a@b.c}, {email: a@b.c}, {email: {host: h, to: x}}]
    mock: x.yaml
""",
                "environments.yaml",
            )
        )
    )
    assert "'default' names 'prod', which is not an environment here" in out
    assert "needs an http:// or https:// base URL" in out
    assert "a notification sink is one of" in out
    assert "an email sink's settings" in out and "an email sink needs from" in out
    assert "unknown key 'mock' in an environment; did you mean 'mocks'?" in out


def test_tests_file_parse_and_round_trip() -> None:
    text = """\
version: 1
workflow: policy_change.yaml
mocks: policy_change.mocks.yaml
cases:
  - name: compliance passes
    input:
      policyId: P-7
    expect:
      status: succeeded
      steps:
        check: succeeded
      output:
        status: pass
      calls:
        ComplianceService.runCheck: 3
  - name: compliance fails
    scenario: complianceFails
    input:
      policyId: P-8
    expect:
      status: failed
"""
    loaded = parse_tests(text)
    assert loaded.problems == []
    tf = loaded.model
    assert tf is not None and tf.cases[0].expect.calls == {"ComplianceService.runCheck": 3}
    assert tf.cases[0].expect.has_output and not tf.cases[1].expect.has_output
    assert dump_tests(tf) == text


def test_tests_file_problems() -> None:
    out = "\n".join(
        msgs(
            parse_tests(
                """\
version: 1
workflow: w.yaml
cases:
  - name: a
    expect: {status: passed, steps: {x: done}, calls: {bad: -1}}
  - name: a
    exepct: {}
""",
                "t.tests.yaml",
            )
        )
    )
    assert "'status' is one of succeeded, failed, cancelled, not 'passed'" in out
    assert "a step's status is one of" in out
    assert "'calls' is keyed 'Service.action'" in out
    assert "a call count is a whole number >= 0" in out
    assert "two test cases are named 'a'" in out
    assert "unknown key 'exepct' in a test case; did you mean 'expect'?" in out


def test_tests_file_cross_checks(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text((EXAMPLES / "policy_change.yaml").read_text())
    (tmp_path / "w.mocks.yaml").write_text((EXAMPLES / "policy_change.mocks.yaml").read_text())
    t = tmp_path / "w.tests.yaml"
    t.write_text(
        "version: 1\nworkflow: w.yaml\nmocks: w.mocks.yaml\ncases:\n"
        "  - name: x\n    scenario: nope\n"
        "    expect: {status: failed, steps: {zz: failed}}\n"
    )
    out = "\n".join(msgs(check_file(t)))
    assert "the scenario 'nope' is not in w.mocks.yaml" in out
    assert "expect.steps names 'zz', which is not a step of w.yaml" in out


def test_kind_detection() -> None:
    assert parse_any("version: 1\nname: w\nsteps: []\n", "x.yaml").kind == "workflow"
    assert parse_any("version: 1\nmocks: {}\n", "x.yaml").kind == "mocks"
    assert parse_any("version: 1\nenvironments: {}\n", "x.yaml").kind == "environments"
    assert parse_any("version: 1\nworkflow: w.yaml\ncases: []\n", "x.yaml").kind == "tests"
    unknown = parse_any("version: 1\nfoo: 1\n", "x.yaml")
    assert unknown.kind == "unknown" and "cannot tell what kind of file" in str(unknown.problems[0])
    empty = parse_any("", "empty.mocks.yaml")
    assert empty.model is None and "the file is empty" in empty.problems[0].message


def test_an_environment_may_run_on_temporal() -> None:
    text = """\
version: 1
environments:
  cluster:
    services:
      PolicyService: http://127.0.0.1:8001
    engine: temporal
    temporal:
      address: '127.0.0.1:7233'
      taskQueue: policies
"""
    loaded = parse_environments(text)
    assert loaded.problems == []
    assert loaded.model is not None
    env = loaded.model.environments["cluster"]
    assert env.engine == "temporal"
    assert env.temporal == {"address": "127.0.0.1:7233", "taskQueue": "policies"}
    assert dump_environments(loaded.model) == text


def test_engine_problems_are_located() -> None:
    loaded = parse_environments(
        """\
version: 1
environments:
  a: {engine: temporl}
  b: {engine: temporal}
  c: {engine: temporal, temporal: {address: "nowhere", queue: x}}
  d: {temporal: {address: "h:1"}}
""",
        "environments.yaml",
    )
    out = "\n".join(msgs(loaded))
    assert "environments.yaml:3:" in out and "'engine' is one of local, temporal" in out
    assert "did you mean 'temporal'?" in out
    assert "environments.yaml:4:" in out and "needs temporal: {address: HOST:PORT}" in out
    assert "environments.yaml:5:" in out and "unknown key 'queue'" in out
    assert "'temporal' is used only with engine: temporal" in out
