"""`switchboard design`: the command as the engine's command line sees it.

Registered through the `switchboard.commands` entry point, so the engine never imports the
designer. Light on purpose: Qt loads only when the command runs, not for `switchboard --help`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

__all__ = ["register", "add_arguments", "build_parser", "main", "DESCRIPTION"]

DESCRIPTION = (
    "Open the Switchboard designer on a workflow file (a new workflow when none is given)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help="workflow YAML file to open")
    parser.add_argument(
        "--screenshot",
        metavar="PNG",
        help="open FILE, lay it out, save a picture of the whole window to PNG "
        "and exit (works with QT_QPA_PLATFORM=offscreen)",
    )
    parser.add_argument(
        "--theme",
        choices=("light", "dark"),
        help="colour theme for this start (default: the one chosen last)",
    )
    parser.add_argument(
        "--run",
        action="store_true",
        help="run FILE once it is open (with --screenshot: run it to its end, "
        "then take the picture with the run's states on the canvas)",
    )
    parser.add_argument(
        "--env",
        metavar="NAME",
        help="with --run: the environment (from the environments file beside "
        "FILE) or a mocks file beside it to replay",
    )
    parser.add_argument("--scenario", metavar="NAME", help="with --run: the mocks scenario to use")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard design", description=DESCRIPTION)
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`switchboard design` with these arguments; an exit code."""
    from designer.app import run_parsed

    parser = build_parser()
    return run_parsed(parser.parse_args(list(argv) if argv is not None else None), parser)


def register(sub: Any) -> None:
    """Add `design` to the `switchboard` command line (the entry point's function)."""
    p = sub.add_parser(
        "design", help="open the designer (PySide6) on a workflow", description=DESCRIPTION
    )
    add_arguments(p)
    p.set_defaults(func=_design, parser=p)


def _design(args: argparse.Namespace) -> int:
    from designer.app import run_parsed

    return run_parsed(args, args.parser)
