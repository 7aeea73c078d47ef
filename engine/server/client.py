"""`switchboard deploy FILE --server URL` and `switchboard runs list|get|cancel --server URL`:
the command line as a client of a running `switchboard serve` (through the entry point group,
like `serve`).

The token comes from `--token` or, better (it stays out of shell history and `ps`), from
`SWITCHBOARD_TOKEN`. Exit codes: 0 done, 1 the server refused (problems, not found, not
running), 2 usage or the server cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.core.errors import LoadError

if TYPE_CHECKING:  # httpx (and the click and rich it loads) only when a command runs
    import httpx
from engine.files.documents import parse_workflow, read_text

__all__ = ["register_deploy", "register_runs", "cmd_deploy", "cmd_runs"]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--server",
        metavar="URL",
        default=os.environ.get("SWITCHBOARD_SERVER"),
        help="the server, e.g. http://127.0.0.1:8080 (default $SWITCHBOARD_SERVER)",
    )
    p.add_argument("--token", help="bearer token (default $SWITCHBOARD_TOKEN)")


def register_deploy(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "deploy",
        help="deploy a workflow file to a running switchboard serve",
        description="Check FILE, then PUT it to the server, which checks it again "
        "and serves it at once. Exit codes: 0 deployed, 1 problems, 2 usage or "
        "the server cannot be reached.",
    )
    p.add_argument("file", metavar="FILE", type=Path)
    _common(p)
    p.set_defaults(func=cmd_deploy)


def register_runs(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "runs",
        help="list, show or cancel the runs of a switchboard serve",
        description="Exit codes: 0 done, 1 not found or not running, 2 usage "
        "or the server cannot be reached.",
    )
    p.add_argument("action", choices=["list", "get", "cancel"])
    p.add_argument("run", nargs="?", metavar="RUN", help="the run id (get, cancel)")
    p.add_argument("--workflow", help="list: only this workflow's runs")
    p.add_argument("--status", help="list: only runs with this status")
    p.add_argument("--limit", type=int, default=20, help="list: how many (default 20)")
    p.add_argument("--json", action="store_true", help="print the server's JSON")
    _common(p)
    p.set_defaults(func=cmd_runs)


def _client(args: argparse.Namespace) -> httpx.Client | None:
    import httpx

    if not args.server:
        print(
            "error: name the server: --server http://HOST:PORT (or set SWITCHBOARD_SERVER)",
            file=sys.stderr,
        )
        return None
    token = args.token or os.environ.get("SWITCHBOARD_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=args.server.rstrip("/"), headers=headers, timeout=30)


def _http_error() -> type[Exception]:
    import httpx

    return httpx.HTTPError


def _refused(r: httpx.Response) -> str:
    try:
        return str(r.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"the server answered {r.status_code}"


def cmd_deploy(args: argparse.Namespace) -> int:
    try:
        data = read_text(args.file)
    except LoadError as e:
        print(e.problems[0], file=sys.stderr)
        return 2
    loaded = parse_workflow(data, str(args.file))
    if not loaded.ok or loaded.model is None:
        for p in loaded.errors or loaded.problems:
            print(p, file=sys.stderr)
        print(f"error: {args.file} was not deployed: fix its problems first", file=sys.stderr)
        return 1
    client = _client(args)
    if client is None:
        return 2
    name = loaded.model.name
    try:
        with client:
            r = client.put(
                f"/workflows/{name}", content=data, headers={"content-type": "application/yaml"}
            )
    except _http_error() as e:
        print(f"error: cannot reach {args.server}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    if r.status_code == 422:
        for p in r.json().get("problems", []):
            print(p.get("text") or p.get("message"), file=sys.stderr)
        print(f"error: {_refused(r)}", file=sys.stderr)
        return 1
    if r.status_code >= 400:
        print(f"error: {_refused(r)}", file=sys.stderr)
        return 1
    got = r.json()
    verb = "created" if r.status_code == 201 else "updated"
    print(f"{name}: {verb}, version {got['version']} ({args.server})")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    if args.action != "list" and not args.run:
        print(f"error: runs {args.action} needs the run id", file=sys.stderr)
        return 2
    client = _client(args)
    if client is None:
        return 2
    try:
        with client:
            if args.action == "list":
                params = {
                    k: v
                    for k, v in (
                        ("workflow", args.workflow),
                        ("status", args.status),
                        ("limit", str(args.limit)),
                    )
                    if v
                }
                r = client.get("/runs", params=params)
            elif args.action == "get":
                r = client.get(f"/runs/{args.run}")
            else:
                r = client.post(f"/runs/{args.run}/cancel")
    except _http_error() as e:
        print(f"error: cannot reach {args.server}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    if r.status_code >= 400:
        print(f"error: {_refused(r)}", file=sys.stderr)
        return 1 if r.status_code in (404, 409) else 2
    body = r.json()
    if args.json or args.action == "get":
        print(json.dumps(body, indent=2, ensure_ascii=False))
    elif args.action == "list":
        for run in body["runs"]:
            print(_line(run))
    else:
        print(f"{args.run}: {body['status']}")
    return 0


def _line(run: dict[str, Any]) -> str:
    ms = run.get("duration_ms")
    took = f"{ms} ms" if isinstance(ms, int) else "-"
    error = (run.get("error") or {}).get("type") or ""
    return f"{run['run']}  {run['workflow']:<20} {run['status']:<10} {took:>10}  {error}"
