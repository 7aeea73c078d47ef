"""`switchboard validate` and `switchboard fmt`: messages, exit codes, atomic rewrites."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "workflows"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_examples_are_valid_and_canonical(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", str(EXAMPLES))
    assert code == 0, out + err
    assert "0 errors" in err
    code, out, err = run(capsys, "fmt", "--check", str(EXAMPLES))
    assert code == 0, out + err


def test_validate_reports_file_line_col(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "w.yaml"
    f.write_text("version: 1\nname: w\nsteps:\n  - servce: S\n    action: a\n")
    code, out, _ = run(capsys, "validate", str(f))
    assert code == 1
    assert out.strip() == (
        f"{f}:4:5: error: steps[0].servce: unknown key 'servce' in a call "
        "step; did you mean 'service'?"
    )


def test_validate_detects_each_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.mocks.yaml").write_text("version: 1\nmocks:\n  bad key: {status: 200}\n")
    (tmp_path / "environments.yaml").write_text(
        "version: 1\nenvironments:\n  mock: {mocks: missing.mocks.yaml}\n"
    )
    (tmp_path / "t.tests.yaml").write_text(
        "version: 1\nworkflow: nope.yaml\ncases:\n  - name: x\n    expect: {status: done}\n"
    )
    code, out, _ = run(capsys, "validate", str(tmp_path))
    assert code == 1
    assert "a mock is keyed 'Service.action'" in out
    assert "missing.mocks.yaml' does not exist" in out
    assert "the workflow 'nope.yaml' does not exist" in out
    assert "'status' is one of succeeded, failed, cancelled, not 'done'" in out


def test_validate_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "w.yaml"
    f.write_text("version: 1\nname: w\nsteps:\n  - {wait: soon}\n")
    code, out, _ = run(capsys, "validate", "--json", str(f))
    assert code == 1
    data = json.loads(out)
    assert data[0]["kind"] == "workflow" and data[0]["ok"] is False
    p = data[0]["problems"][0]
    assert (p["line"], p["col"], p["path"]) == (4, 12, "steps[0].wait")


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "validate", str(tmp_path / "missing.yaml"))
    assert code == 2 and "no such file" in err
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == 2


def test_fmt_rewrites_and_check_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "w.yaml"
    f.write_text("version: 1\nname: w\nsteps:\n- {service: S, action: a, timeout: 60}\n")
    code, out, err = run(capsys, "fmt", "--check", "--diff", str(f))
    assert code == 1 and "would reformat" in err and "+    timeout: 1m" in out
    code, _, _ = run(capsys, "fmt", str(f))
    assert code == 0
    assert (
        f.read_text() == "version: 1\nname: w\nsteps:\n  - service: S\n    action: a\n"
        "    timeout: 1m\n"
    )
    code, _, _ = run(capsys, "fmt", "--check", str(f))
    assert code == 0


def test_fmt_keeps_comments_unless_asked_to_drop_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "w.yaml"
    original = "version: 1\nname: w  # the name\nsteps:\n- {service: S, action: a}\n"
    f.write_text(original)
    code, _, err = run(capsys, "fmt", str(f))
    assert code == 0, err
    assert f.read_text() == (
        "version: 1\nname: w  # the name\nsteps:\n  - service: S\n    action: a\n"
    )
    code, _, err = run(capsys, "fmt", "--check", str(f))
    assert code == 0, err
    code, _, _ = run(capsys, "fmt", "--drop-comments", str(f))
    assert code == 0 and "#" not in f.read_text()


def test_fmt_keeps_the_comments_of_mocks_and_tests_files_and_diffs_only_the_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "w.yaml").write_text(
        "version: 1\nname: w\nsteps:\n  - service: S\n    action: a\n", encoding="utf-8"
    )
    mocks = tmp_path / "w.mocks.yaml"
    mocks.write_text(
        "# answers for the demo\n"
        "version: 1\n"
        "mocks:\n"
        "  # the happy path\n"
        "  S.a: {status: 200, body: {ok: true}}   # fast\n"
        "scenarios:\n"
        "  down:\n"
        "    S.a: {fault: connection}   # the service is off\n",
        encoding="utf-8",
    )
    tests = tmp_path / "w.tests.yaml"
    tests.write_text(
        "version: 1\nworkflow: w.yaml\nmocks: w.mocks.yaml\ncases:\n"
        "  # the one that matters\n"
        "  - name: ok\n    expect: {status: succeeded}   # nothing else\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "fmt", "--diff", str(mocks), str(tests))
    assert code == 0, err
    removed = [line for line in out.splitlines() if line.startswith("-") and "---" not in line]
    added = [line for line in out.splitlines() if line.startswith("+") and "+++" not in line]
    assert removed == [
        "-  S.a: {status: 200, body: {ok: true}}   # fast",
        "-    S.a: {fault: connection}   # the service is off",
        "-    expect: {status: succeeded}   # nothing else",
    ]

    def at_its_column(line: str, old: str, comment: str) -> str:
        return "+" + line.ljust(old.index(comment)) + comment

    assert added == [
        at_its_column("  S.a:", removed[0][1:], "# fast"),
        "+    status: 200",
        "+    body:",
        "+      ok: true",
        at_its_column("    S.a:", removed[1][1:], "# the service is off"),
        "+      fault: connection",
        at_its_column("    expect:", removed[2][1:], "# nothing else"),
        "+      status: succeeded",
    ]
    code, _, err = run(capsys, "fmt", str(mocks), str(tests))
    assert code == 0, err
    assert mocks.read_text(encoding="utf-8").startswith("# answers for the demo\nversion: 1\n")
    assert "  # the one that matters\n  - name: ok\n" in tests.read_text(encoding="utf-8")
    code, _, err = run(capsys, "fmt", "--check", str(mocks), str(tests))
    assert code == 0, err


def test_fmt_refuses_invalid_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "w.yaml"
    f.write_text("version: 1\nname: w\nsteps:\n- {service: S, action: a, after: [x]}\n")
    code, _, err = run(capsys, "fmt", str(f))
    assert code == 1 and "fix the errors above first" in err


def test_validate_bad_inputs_end_to_end(tmp_path: Path) -> None:
    """Each bad input gives one clear located message through the real command, no traceback."""
    cases = {
        "syntax.yaml": ("version: 1\nname: w\nsteps: [\n", ":4:1: error: YAML syntax error"),
        "dup.yaml": ("version: 1\nname: w\nname: v\nsteps: []\n", ":3:1: error: duplicate key"),
        "tag.yaml": (
            "version: 1\nname: !!python/object/apply:os.system [ls]\nsteps: []\n",
            ":2:7: error: the tag '!!python/object/apply:os.system' is not allowed",
        ),
        "cycle.yaml": (
            "version: 1\nname: w\nsteps:\n"
            "  - {id: a, service: S, action: a, after: [b]}\n"
            "  - {id: b, service: S, action: b}\n",
            ":4:43: error: steps[0].after: steps form a cycle",
        ),
        "expr.yaml": (
            "version: 1\nname: w\nsteps:\n  - {service: S, action: a, if: '${ a b }'}\n",
            ":4:33: error: steps[0].if: the expression 'a b' does not parse",
        ),
        "nope.yaml": (
            "version: 1\nname: w\nsteps:\n  - {service: S, action: a, with: "
            "'${ steps.nope.output }'}\n",
            "'steps.nope' names no step",
        ),
    }
    for name, (text, needle) in cases.items():
        (tmp_path / name).write_text(text)
        proc = subprocess.run(
            [sys.executable, "-m", "engine.cli", "validate", name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode == 1, (name, proc.stdout, proc.stderr)
        assert needle in proc.stdout, (name, proc.stdout)
        assert "Traceback" not in proc.stdout + proc.stderr


def test_fmt_failed_write_leaves_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "w.yaml"
    original = (
        (EXAMPLES / "policy_change.yaml").read_text().replace("version: 1\n", "version: 1\n\n", 1)
    )
    f.write_text(original)

    def disk_full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("engine.files.documents.os.replace", disk_full)
    code, _, err = run(capsys, "fmt", str(f))
    assert code == 1 and "cannot write: No space left on device; the file is unchanged" in err
    assert f.read_text() == original
    assert [p.name for p in tmp_path.iterdir()] == ["w.yaml"]  # no temporary file left behind


def test_closed_pipe_is_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """`switchboard run … --json | head`: the reader leaves before the result is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    closed = os.fdopen(write_end, "w", buffering=1)  # line-buffered, like a terminal
    monkeypatch.setattr(sys, "stdout", closed)
    try:
        code = main(
            [
                "run",
                str(EXAMPLES / "policy_change.yaml"),
                "--input",
                '{"policyId": "P-7"}',
                "--json",
            ]
        )
    finally:
        monkeypatch.undo()
        with contextlib.suppress(OSError):
            closed.close()
    assert code == 0


UNTIDY = "version: 1\nname: w\nsteps:\n  - {service: S, action: a, timeout: 1500ms}\n"


def test_fmt_diff_only_shows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "w.yaml"
    f.write_text(UNTIDY)
    code, out, err = run(capsys, "fmt", "--diff", str(f))
    assert code == 0 and "+    timeout: 1500ms" in out and "would reformat" in err
    assert f.read_text() == UNTIDY  # it used to rewrite the file as well


def test_fmt_check_does_not_build_a_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import difflib

    def no_diff(*args: object, **kwargs: object) -> None:
        raise AssertionError("--check built a diff")

    monkeypatch.setattr(difflib, "unified_diff", no_diff)
    f = tmp_path / "w.yaml"
    f.write_text(UNTIDY)
    code, out, err = run(capsys, "fmt", "--check", str(f))
    assert code == 1 and out == "" and f"would reformat {f}" in err


def test_fmt_writes_through_a_symlink(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "real.yaml"
    real.write_text(UNTIDY)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    code, _, err = run(capsys, "fmt", str(link))
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == real  # the link is still a link
    assert "timeout: 1500ms" in real.read_text() and "{" not in real.read_text()


def test_fmt_never_writes_a_file_the_reader_would_refuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a valid 9.1 MB workflow was rewritten to 10.7 MB, which no longer loads; the same with a
    # limit made small (the file is under it, its canonical form over it)
    import engine.files.yamlread

    f = tmp_path / "big.yaml"
    f.write_text(UNTIDY)
    monkeypatch.setattr(engine.files.yamlread, "MAX_BYTES", len(UNTIDY) + 1)
    before = f.read_text()
    code, _, err = run(capsys, "fmt", str(f))
    assert code == 1 and "over the 10 MiB a file may have" in err, err
    assert f.read_text() == before


@pytest.mark.parametrize("what", ["/dev/zero", "fifo"])
def test_validate_and_input_refuse_devices_and_pipes(
    what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = what
    if what == "fifo":
        path = str(tmp_path / "pipe.yaml")
        os.mkfifo(path)  # reading it would block forever
    code, out, _ = run(capsys, "validate", path)
    assert code == 1 and "not a regular file" in out
    flow = tmp_path / "w.yaml"
    flow.write_text("version: 1\nname: w\nsteps:\n  - notify: hi\n")
    code, _, err = run(capsys, "run", str(flow), "--input", f"@{path}")
    assert code == 2 and "not a regular file" in err


def test_fmt_keeps_a_leading_yaml_language_server_modeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "w.yaml"
    modeline = "# yaml-language-server: $schema=../resources/schema/workflow.schema.json\n"
    f.write_text(modeline + UNTIDY)
    code, _, err = run(capsys, "fmt", str(f))
    assert code == 0, err  # it used to refuse: the modeline counted as a comment
    assert f.read_text().startswith(modeline) and "timeout: 1500ms" in f.read_text()
    code, _, err = run(capsys, "fmt", "--check", str(f))
    assert code == 0, err
    f.write_text(modeline + UNTIDY.replace("name: w", "name: w  # a comment"))
    code, _, err = run(capsys, "fmt", str(f))
    assert code == 0, err
    assert f.read_text().startswith(modeline) and "name: w  # a comment\n" in f.read_text()
    code, _, err = run(capsys, "fmt", "--drop-comments", str(f))
    assert code == 0, err  # the modeline is the editor's: it stays
    assert f.read_text().startswith(modeline) and f.read_text().count("#") == 1
