"""`switchboard export --to serverless`, `import` (Serverless Workflow 1.0.3) and
`import-openapi` (a service description and mocks from an OpenAPI 3 spec)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.cli.files import print_problems
from engine.files.folder import ENVIRONMENTS_FILE, MOCKS_SUFFIX, environments_file

# What the commands use is imported when they run (`switchboard --help` needs none of it).
if TYPE_CHECKING:
    from engine.files.environment_edit import ServiceUrlEdit

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    e = sub.add_parser(
        "export",
        help="write a workflow as a Serverless Workflow 1.0.3 document",
        description="Export a workflow. What has no equivalent is listed as a "
        "warning. Exit codes: 0 written, 1 problems (nothing written on errors, "
        "or warnings with --strict), 2 usage error.",
    )
    e.add_argument("file", metavar="FILE", help="the workflow file")
    e.add_argument("--to", required=True, choices=["serverless"], help="the target format")
    e.add_argument(
        "-o", "--output", metavar="OUT", help="where to write (default: FILE with .sw.yaml)"
    )
    e.add_argument("--source", help="the CloudEvents source of emitted events")
    e.add_argument(
        "--env",
        metavar="NAME",
        help="take the services' base URLs (and followRedirects) from this environment of "
        "the folder's environments file (default: http://<service>)",
    )
    e.add_argument("--namespace", default="default", help="the document's namespace")
    e.add_argument("--strict", action="store_true", help="exit 1 when there are warnings")
    e.set_defaults(func=cmd_export)
    i = sub.add_parser(
        "import",
        help="read a Serverless Workflow document as a workflow",
        description="Import the supported subset of a Serverless Workflow 1.x "
        "document; everything else is a problem with its path. Exit codes: "
        "0 imported, 1 problems (the supported part is still written), 2 "
        "unreadable.",
    )
    i.add_argument("file", metavar="FILE", help="the Serverless Workflow file (.sw.yaml)")
    i.add_argument(
        "-o", "--output", metavar="OUT", required=True, help="the Switchboard workflow to write"
    )
    i.set_defaults(func=cmd_import)
    o = sub.add_parser(
        "import-openapi",
        help="describe a service by its OpenAPI 3 spec",
        description="Write <NAME>.service.yaml (referencing SPEC) into DIR, so "
        "the palette lists the spec's operations and validate checks call steps "
        "and mocks against them. Exit codes: 0 written, 1 problems, 2 usage.",
    )
    o.add_argument("spec", metavar="SPEC", help="the OpenAPI 3.0 or 3.1 document (YAML or JSON)")
    o.add_argument("--service", required=True, metavar="NAME", help="the logical service name")
    o.add_argument(
        "--into",
        default=".",
        metavar="DIR",
        help="the workflows folder to write into (default: the current folder)",
    )
    o.add_argument(
        "--mocks",
        action="store_true",
        help=f"also write <NAME>{MOCKS_SUFFIX} from the spec's response examples",
    )
    o.add_argument("--force", action="store_true", help="overwrite files that exist")
    o.add_argument(
        "--env",
        metavar="ENV",
        help="also write the spec's servers[0].url as the service's base URL into this "
        "environment of DIR's environments file (both made when missing)",
    )
    o.set_defaults(func=cmd_import_openapi)


def _write(path: Path, text: str) -> bool:
    from engine.files.documents import save_text_atomic

    try:
        save_text_atomic(path, text)
    except OSError as e:
        print(f"{path}: cannot write: {e.strerror}", file=sys.stderr)
        return False
    return True


def cmd_export(args: argparse.Namespace) -> int:
    from engine.core.errors import LoadError
    from engine.files.documents import load_environments, parse_workflow, read_text
    from engine.files.serverless import export_serverless

    src = Path(args.file)
    try:
        text = read_text(src)
    except LoadError as e:
        print_problems(e.problems, sys.stderr)
        return 2
    loaded = parse_workflow(text, str(src))
    if loaded.model is None or loaded.errors:
        print_problems(loaded.errors, sys.stderr)
        print(f"{src}: not exported: fix the errors above first", file=sys.stderr)
        return 1
    services: dict[str, str] = {}
    follow: bool | None = None
    if args.env:
        env_path = environments_file(src.resolve().parent)
        try:
            if env_path is None:
                raise KeyError(args.env)
            env = load_environments(env_path).environments[args.env]
            services, follow = env.services, env.follow_redirects
        except LoadError as e:
            print_problems(e.problems, sys.stderr)
            return 1
        except KeyError:
            print(
                f"{src}: no environment '{args.env}' in "
                f"{env_path or f'an {ENVIRONMENTS_FILE} beside it'}",
                file=sys.stderr,
            )
            return 2
    locator = loaded.locator
    out = export_serverless(
        loaded.model,
        file=str(src),
        source=args.source,
        services=services,
        namespace=args.namespace,
        locate=(lambda p: locator.locate(p)) if locator else None,
        follow_redirects=follow,
    )
    print_problems(out.problems, sys.stderr)
    if out.document is None:
        print(f"{src}: not exported", file=sys.stderr)
        return 1
    dest = (
        Path(args.output)
        if args.output
        else src.with_name(src.name.removesuffix(".yaml") + ".sw.yaml")
    )
    if not _write(dest, out.text):
        return 1
    print(
        f"wrote {dest} ({len(out.problems)} warning{'s' if len(out.problems) != 1 else ''})",
        file=sys.stderr,
    )
    return 1 if args.strict and out.problems else 0


def cmd_import(args: argparse.Namespace) -> int:
    from engine.core.errors import LoadError
    from engine.files.documents import read_text
    from engine.files.serverless_import import import_serverless

    src = Path(args.file)
    try:
        text = read_text(src)
    except LoadError as e:
        print_problems(e.problems, sys.stderr)
        return 2
    result = import_serverless(text, str(src))
    print_problems(result.problems, sys.stderr)
    if result.workflow is None:
        print(f"{src}: nothing imported", file=sys.stderr)
        return 1 if any(p.line for p in result.problems) or result.problems else 2
    dest = Path(args.output)
    if not _write(dest, result.text):
        return 1
    for name, url in result.services.items():
        print(f"service {name}: {url} (add it to an environment's 'services')", file=sys.stderr)
    errors = [p for p in result.problems if p.severity == "error"]
    print(
        f"wrote {dest} ({len(result.workflow.steps)} steps, {len(errors)} problem"
        f"{'s' if len(errors) != 1 else ''})",
        file=sys.stderr,
    )
    return 1 if errors else 0


def cmd_import_openapi(args: argparse.Namespace) -> int:
    from engine.core.errors import LoadError
    from engine.files.environment_edit import plan_service_url
    from engine.files.openapi_import import check_service_name, plan_service_import

    why = check_service_name(args.service)
    if why is not None:
        print(why, file=sys.stderr)
        return 2
    folder = Path(args.into)
    if not folder.is_dir():
        print(f"{folder}: no such folder", file=sys.stderr)
        return 2
    try:
        plan = plan_service_import(args.spec, args.service, folder, args.mocks)
    except LoadError as e:
        print_problems(e.problems, sys.stderr)
        return 1
    existing = [str(p) for p in plan.existing()]
    if existing and not args.force:
        print(f"{', '.join(existing)}: exists; pass --force to overwrite", file=sys.stderr)
        return 1
    env_edit: ServiceUrlEdit | None = None
    if args.env:  # planned before anything is written: a broken file stops the import
        if not plan.base_url:
            print(
                f"{args.spec}: the spec gives no servers[0].url to write into '{args.env}'; "
                "import without --env and add the service's URL to the environment by hand",
                file=sys.stderr,
            )
            return 1
        try:
            env_edit = plan_service_url(folder, args.env, args.service, plan.base_url)
        except LoadError as e:
            print_problems(e.problems, sys.stderr)
            return 1
        except ValueError as e:
            print(f"{folder}: {e}", file=sys.stderr)
            return 1
    for path, text in plan.files:
        if not _write(path, text):
            return 1
        print(f"wrote {path}", file=sys.stderr)
    if env_edit is not None:
        if not env_edit.unchanged and not _write(env_edit.path, env_edit.text):
            return 1
        print(f"{env_edit.path}: {env_edit.describe()}", file=sys.stderr)
    for op in plan.spec.operations.values():
        print(f"{args.service}.{op.operation_id}\t{op.method} {op.path}\t{op.summary}")
    if plan.base_url and env_edit is None:
        print(
            f"servers[0]: {plan.base_url} (an environment's services can use it: "
            f"'{args.service}: {plan.base_url}')",
            file=sys.stderr,
        )
    return 0
