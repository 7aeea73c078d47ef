"""`switchboard run`, `test` and `emit`: exit codes, --json output, messages for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from engine import load_mocks
from engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
WF = ROOT / "workflows"
POLICY = str(WF / "policy_change.yaml")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --- run -------------------------------------------------------------------------------------


def test_run_prints_a_line_per_event_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "run", POLICY, "--input", '{"policyId": "P-7"}')
    assert code == 0, err
    lines = out.splitlines()
    assert "▶ run policyChange started" in lines[0]
    assert any("↻ check attempt 1 of 4 failed" in x and "next attempt in" in x for x in lines)
    assert any("✔ check succeeded in" in x and "(3 attempts)" in x for x in lines)
    assert any("SUCCESS adminSuccess: Policy P-7 passed compliance after 3" in x for x in lines)
    assert "■ run policyChange succeeded in 6." in lines[-1]  # virtual time: 5 s timeout + 1 s
    assert err == ""


def test_run_json_prints_only_the_run_result_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "run", POLICY, "--json", "--input", '{"policyId": "P-7"}')
    assert code == 0
    result = json.loads(out)
    assert list(result) == [
        "run",
        "workflow",
        "status",
        "started",
        "duration_ms",
        "steps",
        "output",
        "error",
    ]
    assert result["workflow"] == "policyChange" and result["status"] == "succeeded"
    assert result["started"].endswith("Z") and result["error"] is None
    assert set(result["steps"]) == {
        "updatePolicy",
        "check",
        "sendUpdate",
        "adminSuccess",
        "revertPolicy",
        "adminFailure",
    }
    assert list(result["steps"]["check"]) == [
        "status",
        "attempts",
        "output",
        "error",
        "duration_ms",
    ]
    assert result["steps"]["check"]["attempts"] == 3
    assert result["output"] == {"policyId": "P-7", "version": 7, "compliance": "pass", "live": True}
    assert "▶ run policyChange started" in err  # progress went to stderr


def test_run_failed_exits_1_with_the_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys,
        "run",
        POLICY,
        "--scenario",
        "policyLocked",
        "--json",
        "--input",
        '{"policyId": "P-7"}',
    )
    assert code == 1
    result = json.loads(out)
    assert result["status"] == "failed"
    assert result["error"]["type"] == "http" and result["error"]["step"] == "updatePolicy"
    assert result["steps"]["check"]["status"] == "cancelled"


def test_run_input_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    as_yaml = write(tmp_path, "in.yaml", "policies:\n  - id: P-1\n  - id: P-2\n")
    as_json = write(tmp_path, "in.json", '{"policies": [{"id": "P-9"}]}')
    code, out, _ = run_cli(
        capsys, "run", str(WF / "policy_review.yaml"), "--json", "--input", f"@{as_yaml}"
    )
    assert code == 0 and json.loads(out)["output"]["report"] == "R-2-0"
    code, out, _ = run_cli(
        capsys, "run", str(WF / "policy_review.yaml"), "--json", "--input", f"@{as_json}"
    )
    assert code == 0 and json.loads(out)["output"]["results"] == [
        {"policy": "P-9", "status": "pass"}
    ]


@pytest.mark.parametrize(
    "value, message",
    [
        ("{policyId: 1}", "--input:1:2: not valid JSON"),
        ("@/no/such/file.json", "--input: /no/such/file.json: no such file: check the path"),
    ],
)
def test_run_bad_input_argument_exits_2(
    capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    code, out, err = run_cli(capsys, "run", POLICY, "--input", value)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_run_input_not_matching_the_schema_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "run", POLICY, "--json", "--input", '{"policy": "P-7"}')
    assert code == 2
    result = json.loads(out)
    assert result["error"]["type"] == "input"
    assert "'policyId' is a required property" in result["error"]["message"]


def test_run_a_broken_workflow_prints_located_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(
        tmp_path,
        "bad.yaml",
        """\
        version: 1
        name: bad
        steps:
          - service: A
            action: b
            retry:
              atempts: 3
          - id: x
            after: [nope]
            wait: 5s
        """,
    )
    code, out, err = run_cli(capsys, "run", str(bad))
    assert code == 2 and out == ""
    assert f"{bad}:7:7: error: steps[0].retry.atempts: unknown key 'atempts'" in err
    assert "did you mean 'attempts'?" in err
    assert f"{bad}:9:13: error: steps[1].after[0]: 'after' names 'nope'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--scenario", "nope"], "scenario 'nope' is not in"),
        (["--env", "prod"], "there is no environment 'prod'; known: mock, local, hybrid"),
        (["--mocks", "/no/such.mocks.yaml"], "/no/such.mocks.yaml"),
    ],
)
def test_run_unknown_scenario_env_or_mocks_exits_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run_cli(capsys, "run", POLICY, "--input", '{"policyId": "P-1"}', *args)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_run_missing_workflow_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "run", "/no/such/workflow.yaml")
    assert code == 2 and "no such workflow file" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["run"])
    assert e.value.code == 2
    assert "WORKFLOW" in capsys.readouterr().err


def test_run_as_a_module_in_a_subprocess() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "run",
            str(WF / "emergency_dispatch.yaml"),
            "--scenario",
            "ambulanceUnavailable",
            "--json",
            "--input",
            '{"incidentId": "9", "location": {"lat": 1, "lon": 2}}',
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["steps"]["ambulance"]["status"] == "failed"
    assert result["output"]["units"] == ["engine-12", "patrol-31"]
    assert "WARNING shortfall" in proc.stderr


# --- environment sinks and recording -----------------------------------------------------------


class _Service(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    posts: list[tuple[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
        type(self).posts.append((self.path, body))
        data = json.dumps({"echo": body, "n": len(type(self).posts)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def service() -> Iterator[tuple[str, type[_Service]]]:
    handler = type("Service", (_Service,), {"posts": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


ECHO = """\
    version: 1
    name: echo
    trigger: ping
    steps:
      - service: Echo
        action: say
        with:
          text: ${ input.text }
      - notify:
          message: echoed ${ steps.say.output.echo.text }
          level: warning
    output: ${ steps.say.output.echo }
    """


def test_run_environment_sinks_get_the_notifications(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], service: tuple[str, type[_Service]]
) -> None:
    url, handler = service
    wf = write(tmp_path, "echo.yaml", ECHO)
    write(
        tmp_path,
        "echo.mocks.yaml",
        """\
        version: 1
        mocks:
          Echo.say:
            body: {echo: {text: mocked}}
        """,
    )
    write(
        tmp_path,
        "environments.yaml",
        f"""\
        version: 1
        default: mock
        environments:
          mock:
            mocks: echo.mocks.yaml
            notify:
              - webhook: {url}/hook
              - file: logs/events.jsonl
              - console: true
        """,
    )
    code, out, err = run_cli(capsys, "run", str(wf), "--input", '{"text": "hi"}')
    assert code == 0, err
    assert out.count("WARNING notify: echoed mocked") == 1  # {console: true} adds no 2nd line
    assert handler.posts == [
        (
            "/hook",
            {
                "run": handler.posts[0][1]["run"],
                "step": "notify",
                "level": "warning",
                "message": "echoed mocked",
                "time": handler.posts[0][1]["time"],
                "text": "[warning] echoed mocked",
            },
        )
    ]
    events = [json.loads(x) for x in (tmp_path / "logs" / "events.jsonl").read_text().splitlines()]
    assert events[0]["event"] == "RunStarted" and events[-1]["event"] == "RunFinished"
    assert any(e["event"] == "Notification" for e in events)


def test_run_live_with_record_writes_a_mocks_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], service: tuple[str, type[_Service]]
) -> None:
    url, handler = service
    wf = write(tmp_path, "echo.yaml", ECHO)
    write(
        tmp_path,
        "environments.yaml",
        f"""\
        version: 1
        environments:
          local:
            services:
              Echo: {url}
        """,
    )
    rec = tmp_path / "recorded.mocks.yaml"
    code, out, err = run_cli(
        capsys, "run", str(wf), "--json", "--input", '{"text": "live"}', "--record", str(rec)
    )
    assert code == 0, err
    assert json.loads(out)["output"] == {"text": "live"}
    assert handler.posts[0] == ("/say", {"text": "live"})
    assert f"recorded 1 response to {rec}" in err
    mocks = load_mocks(rec)
    assert mocks.mocks["Echo.say"][0].body == {"echo": {"text": "live"}, "n": 1}


# --- test ------------------------------------------------------------------------------------


def test_test_command_passes_the_examples_and_writes_junit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "junit.xml"
    code, out, err = run_cli(
        capsys, "test", str(WF / "policy_change.tests.yaml"), "--junit", str(junit)
    )
    assert code == 0, out
    assert "✔ compliance passes on the third attempt" in out
    assert out.splitlines()[-1] == "5 passed, 0 failed"
    assert junit.read_text().count("<testcase ") == 5


def _failing_tests(tmp_path: Path) -> Path:
    write(tmp_path, "echo.yaml", ECHO)
    write(tmp_path, "echo.mocks.yaml", "version: 1\nmocks:\n  Echo.say:\n    body: {echo: 1}\n")
    return write(
        tmp_path,
        "echo.tests.yaml",
        """\
        version: 1
        workflow: echo.yaml
        mocks: echo.mocks.yaml
        cases:
          - name: right
            expect: {status: succeeded, output: 1, calls: {Echo.say: 1}}
          - name: wrong
            expect: {status: succeeded, output: 2, steps: {notify: skipped}}
        """,
    )


def test_test_command_shows_differences_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _failing_tests(tmp_path)
    code, out, _ = run_cli(capsys, "test", str(tmp_path))
    assert code == 1
    assert "  ✔ right" in out and "  ✘ wrong" in out
    assert '      steps.notify: expected "skipped", got "succeeded"' in out
    assert "      output: expected 2, got 1" in out
    assert out.splitlines()[-1] == "1 passed, 1 failed"


def test_test_command_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _failing_tests(tmp_path)
    code, out, _ = run_cli(capsys, "test", str(tmp_path), "--json")
    assert code == 1
    data = json.loads(out)
    assert (data["passed"], data["failed"]) == (1, 1)
    wrong = data["files"][0]["cases"][1]
    assert wrong["differences"][0] == {
        "path": "steps.notify",
        "expected": "skipped",
        "got": "succeeded",
        "note": "",
    }


def test_test_command_invalid_files_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, "x.tests.yaml", "version: 1\nworkflow: missing.yaml\ncases: []\n")
    code, out, _ = run_cli(capsys, "test", str(bad))
    assert code == 2
    assert f"{bad}:2:11: error: workflow: the workflow 'missing.yaml' does not exist" in out
    code, _, err = run_cli(capsys, "test", str(tmp_path / "nothing-here"))
    assert code == 2 and "no such file or folder" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli(capsys, "test", str(empty))
    assert code == 2 and "no tests files" in err


# --- emit ------------------------------------------------------------------------------------


def test_emit_starts_the_listening_workflows(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        capsys,
        "emit",
        "emergencyReported",
        "--workflows",
        str(WF),
        "--json",
        "--data",
        '{"incidentId": "77", "location": {"lat": 1, "lon": 2}}',
    )
    assert code == 0, err
    (result,) = json.loads(out)
    assert result["workflow"] == "emergencyDispatch"
    assert result["output"]["incident"] == "INC-77"


def test_emit_follows_emit_steps_to_other_workflows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        "first.yaml",
        """\
        version: 1
        name: first
        trigger: start
        steps:
          - emit:
              event: ping
              data: {text: "${ input.word }"}
        """,
    )
    write(tmp_path, "echo.yaml", ECHO)
    write(
        tmp_path,
        "echo.mocks.yaml",
        "version: 1\nmocks:\n  Echo.say:\n    body: {echo: {text: m}}\n",
    )
    write(
        tmp_path,
        "environments.yaml",
        "version: 1\nenvironments:\n  mock:\n    mocks: echo.mocks.yaml\n",
    )
    code, out, err = run_cli(
        capsys, "emit", "start", "--workflows", str(tmp_path), "--data", '{"word": "hello"}'
    )
    assert code == 0, err
    assert "run first succeeded" in out
    assert "run echo succeeded" in out  # started by first's emit step, waited for


def test_emit_with_no_listener_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "emit", "nobodyListens", "--workflows", str(WF))
    assert code == 2
    assert "no workflow in" in err and "emergencyReported" in err
    code, _, err = run_cli(
        capsys, "emit", "emergencyReported", "--workflows", str(WF), "--data", "{bad"
    )
    assert code == 2 and "--data:1:2: not valid JSON" in err


def test_ctrl_c_cancels_the_run_and_exits_130(tmp_path: Path) -> None:
    import signal

    wf = write(
        tmp_path,
        "slow.yaml",
        """\
        version: 1
        name: slow
        steps:
          - service: A
            action: go
          - wait: 60s
        """,
    )
    mocks = write(tmp_path, "slow.mocks.yaml", "version: 1\nmocks:\n  A.go: {status: 200}\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "run",
            str(wf),
            "--mocks",
            str(mocks),
            "--real-time",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        # A shell running us in the background ignores SIGINT, and children inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # wait for the wait step to start, then press Ctrl-C
        seen.append(line)
        if "wait started" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, rest = proc.communicate(timeout=30)
    assert proc.returncode == 130, "".join(seen) + rest
    result = json.loads(out)
    assert result["status"] == "cancelled"
    assert result["steps"]["go"]["status"] == "succeeded"
    assert result["steps"]["wait"]["status"] == "cancelled"
    assert "⊘ wait cancelled" in rest and "interrupted" in rest


def test_sigterm_ends_a_run_as_cancelled_with_its_result_and_recording(tmp_path: Path) -> None:
    import signal
    import time

    flow = tmp_path / "hold.yaml"
    flow.write_text(
        "version: 1\nname: hold\nsteps:\n  - id: first\n    service: Api\n"
        "    action: go\n  - wait: 1h\n"
    )
    mocks = tmp_path / "hold.mocks.yaml"
    mocks.write_text("version: 1\nmocks:\n  Api.go: {body: {ok: 1}}\n")
    record = tmp_path / "rec.mocks.yaml"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "run",
            str(flow),
            "--mocks",
            str(mocks),
            "--real-time",
            "--json",
            "--record",
            str(record),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        seen = ""
        while "wait started" not in seen and time.monotonic() < deadline:
            seen += proc.stderr.readline()
        assert "wait started" in seen
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    result = json.loads(out)
    assert result["status"] == "cancelled" and result["steps"]["first"]["status"] == "succeeded"
    assert "terminated" in err and "Traceback" not in err
    assert "Api.go" in record.read_text()  # the recording was written
