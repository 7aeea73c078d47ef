"""`switchboard …`: the command line. Each command lives in its own module and registers here."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard",
        description="Design, validate, run and test Switchboard workflows.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Each command module adds its own subcommand(s); imports stay lazy where they are heavy.
    from engine import cli_files, cli_run

    cli_files.register(sub)
    cli_run.register(sub)
    _register_design(sub)
    return parser


def _register_design(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("design", help="open the designer (PySide6) on a workflow",
                       add_help=False)
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(func=_design)


def _design(args: argparse.Namespace) -> int:
    from designer.app import main as design_main  # the only place the engine reaches the designer

    return int(design_main(list(args.args)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`switchboard run … --json | head`): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
