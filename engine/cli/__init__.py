"""`switchboard …`: the command line.

The engine's own commands live in `files` (validate, fmt) and `run` (run, test, emit). Other
packages add commands through the `switchboard.commands` entry-point group: each entry point is
a function taking the subparsers object and adding its command (the designer registers
`design` this way, so the engine never imports it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from engine.cli import files, interop, run

__all__ = ["main", "build_parser", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "switchboard.commands"


def build_parser(plugins: bool = True) -> argparse.ArgumentParser:
    """The parser of every command; `plugins=False` leaves out those of other packages (the
    entry points are found by reading every installed package's metadata: ~30 ms)."""
    parser = argparse.ArgumentParser(
        prog="switchboard",
        description="Design, validate, run and test Switchboard workflows.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    files.register(sub)
    run.register(sub)
    interop.register(sub)
    if not plugins:
        return parser
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            register = ep.load()
        except Exception as e:  # a broken plug-in must not take the other commands down
            print(
                f"warning: the command '{ep.name}' ({ep.value}) could not be loaded: "
                f"{type(e).__name__}: {e}",
                file=sys.stderr,
            )
            continue
        register(sub)
    return parser


# commands no plug-in adds options to (`run` gains `--temporal` from engine.temporal)
_OWN = ("validate", "fmt", "test", "emit", "export", "import", "import-openapi")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(argv) if argv is not None else sys.argv[1:]
    # an engine command needs no plug-in: start without looking for them
    first = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(plugins=first not in _OWN or "--help" in argv or "-h" in argv)
    args = parser.parse_args(argv)
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
