"""`switchboard validate` and `switchboard fmt`: check files and rewrite them in canonical form."""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.files.folder import ALLOW_OUTSIDE_FLAG, yaml_files

# What the commands use is imported when they run: `switchboard --help` builds every
# command's parser, and needs none of it.
if TYPE_CHECKING:
    from engine.core.errors import Problem
    from engine.files.documents import Loaded

__all__ = ["register", "print_problems", "has_comments"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    v = sub.add_parser(
        "validate",
        help="check workflow, mocks, environments and tests files",
        description="Check files against the Switchboard format. Exit codes: "
        "0 fine, 1 problems found, 2 usage error.",
    )
    v.add_argument(
        "paths", nargs="+", metavar="FILE", help="files or folders (the YAML files in them)"
    )
    v.add_argument("--json", action="store_true", help="print the problems as JSON")
    v.add_argument("--strict", action="store_true", help="treat warnings as problems")
    v.add_argument(
        ALLOW_OUTSIDE_FLAG,
        action="store_true",
        help="let environments files name files outside their folder",
    )
    v.set_defaults(func=cmd_validate)
    f = sub.add_parser(
        "fmt",
        help="rewrite files in the canonical form",
        description="Rewrite files in the canonical, diff-friendly form, keeping their "
        "comments. "
        "Exit codes: 0 fine, 1 problems found (or files would change with "
        "--check), 2 usage error.",
    )
    f.add_argument(
        "paths", nargs="+", metavar="FILE", help="files or folders (the YAML files in them)"
    )
    f.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if any file would change"
    )
    f.add_argument(
        "--diff", action="store_true", help="print what would change (and change nothing)"
    )
    f.add_argument(
        "--drop-comments",
        action="store_true",
        help="leave the files' comments out (they are kept, each at its key, by default)",
    )
    f.set_defaults(func=cmd_fmt)


def _fmt_problem(p: Problem) -> str:
    from engine.core.errors import format_path

    where = p.file or "<input>"
    if p.line:
        where += f":{p.line}:{p.col}"
    path = format_path(p.path)
    return f"{where}: {p.severity}: {path + ': ' if path else ''}{p.message}"


def print_problems(problems: list[Problem], out: Any = None) -> None:
    out = out or sys.stdout
    for p in problems:
        print(_fmt_problem(p), file=out)


def cmd_validate(args: argparse.Namespace) -> int:
    from engine.files.documents import check_file

    files, missing = yaml_files(args.paths)
    for m in missing:
        print(m, file=sys.stderr)
    if missing and not files:
        return 2
    results = [check_file(f, allow_outside=args.allow_outside_files) for f in files]
    _add_folder_problems(files, results)
    errors = sum(len(r.errors) for r in results)
    warnings = sum(len(r.problems) - len(r.errors) for r in results)
    if args.json:
        json.dump(
            [
                {
                    "file": r.file,
                    "kind": r.kind,
                    "ok": r.ok,
                    "problems": [p.to_json() for p in r.problems],
                }
                for r in results
            ],
            sys.stdout,
            indent=2,
        )
        print()
    else:
        for r in results:
            print_problems(r.problems)
        status = "ok" if not errors else "invalid"
        print(
            f"{len(results)} file{'s' if len(results) != 1 else ''} checked: {errors} "
            f"error{'s' if errors != 1 else ''}, {warnings} warning"
            f"{'s' if warnings != 1 else ''} ({status})",
            file=sys.stderr,
        )
    if errors or (args.strict and warnings):
        return 1
    return 2 if missing else 0


def _add_folder_problems(files: list[Path], results: list[Loaded[Any]]) -> None:
    """Add each folder's problems (two workflows with one name) to the files checked."""
    from engine.files.documents import folder_problems

    by_path = {f.resolve(): r for f, r in zip(files, results)}
    for folder in dict.fromkeys(f.resolve().parent for f in files):
        for path, problems in folder_problems(folder, by_path).items():
            loaded = by_path.get(path)
            if loaded is not None:
                loaded.problems.extend(problems)
                loaded.problems.sort(key=lambda p: (p.line or 10**9, p.col))


_MODELINE = re.compile(r"\A#\s*yaml-language-server:[^\n]*\n")


def _modeline(text: str) -> str:
    """A leading `# yaml-language-server: $schema=…` line: the editor's, kept as it is."""
    m = _MODELINE.match(text)
    return m.group() if m else ""


def has_comments(text: str) -> bool:
    """Whether a YAML text that parses holds comments (a `#` inside a quoted or block
    scalar, or in `http://x/#frag`, is text)."""
    from engine.files.comments import find_comments

    return bool(find_comments(text))


def cmd_fmt(args: argparse.Namespace) -> int:
    from engine.files.documents import check_file, dump_any, read_text, save_text_atomic
    from engine.files.yamlread import MAX_BYTES

    files, missing = yaml_files(args.paths)
    for m in missing:
        print(m, file=sys.stderr)
    if missing and not files:
        return 2
    bad = changed = 0
    for f in files:
        loaded: Loaded[Any] = check_file(f)
        if not loaded.ok:
            print_problems(loaded.errors, sys.stderr)
            print(f"{f}: not formatted: fix the errors above first", file=sys.stderr)
            bad += 1
            continue
        old = loaded.source if loaded.source is not None else read_text(f).decode("utf-8-sig")
        # comments are kept (the modeline among them) unless dropped; the modeline stays
        modeline = _modeline(old) if args.drop_comments else ""
        new = modeline + dump_any(loaded.model, comments=not args.drop_comments)
        if old == new:
            continue
        if len(new.encode("utf-8")) > MAX_BYTES:
            print(
                f"{f}: not formatted: its canonical form would be "
                f"{len(new.encode('utf-8')) / 1048576:.1f} MiB, over the 10 MiB a file may "
                "have (split the workflow)",
                file=sys.stderr,
            )
            bad += 1
            continue
        changed += 1
        if args.diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    f"{f} (now)",
                    f"{f} (canonical)",
                )
            )
        if args.check or args.diff:
            print(f"would reformat {f}", file=sys.stderr)
        else:
            try:
                save_text_atomic(f, new)
            except OSError as e:
                print(f"{f}: cannot write: {e.strerror}; the file is unchanged", file=sys.stderr)
                bad += 1
                continue
            print(f"reformatted {f}", file=sys.stderr)
    verb = "would change" if args.check or args.diff else "changed"
    print(
        f"{len(files)} file{'s' if len(files) != 1 else ''} checked, {changed} {verb}, "
        f"{bad} with problems",
        file=sys.stderr,
    )
    if bad or (args.check and changed):
        return 1
    return 2 if missing else 0
