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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.core.errors import Problem

if TYPE_CHECKING:  # httpx (and the click and rich it loads) only when a command runs
    import httpx

__all__ = [
    "DeployAnswer",
    "register_deploy",
    "register_runs",
    "cmd_deploy",
    "cmd_runs",
    "deploy_text",
]


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


@dataclass
class DeployAnswer:
    """What a server said to a deploy: `status` 0 when it could not be reached; `problems`
    (located in the text sent) when it refused the workflow (422)."""

    status: int
    message: str
    version: str | None = None
    created: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in (200, 201)


def _problem(d: dict[str, Any]) -> Problem:
    """A problem as the server's JSON gives it (its path comes as text, kept as one part)."""
    path = str(d.get("path") or "")
    return Problem(
        str(d.get("message") or d.get("text") or "a problem"),
        (path,) if path else (),
        str(d.get("file") or ""),
        int(d.get("line") or 0),
        int(d.get("col") or 0),
        d.get("step") if isinstance(d.get("step"), str) else None,
        "warning" if d.get("severity") == "warning" else "error",
    )


def deploy_text(
    server: str, name: str, text: str, token: str | None = None, timeout: float = 30
) -> DeployAnswer:
    """PUT `text` to `server` as the workflow `name`; never raises (the designer's File →
    Deploy and `switchboard deploy` both use it). The token goes only into the header."""
    import httpx

    headers = {"content-type": "application/yaml"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with httpx.Client(base_url=server.rstrip("/"), timeout=timeout) as client:
            r = client.put(f"/workflows/{name}", content=text.encode("utf-8"), headers=headers)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as e:  # a URL httpx cannot use
        return DeployAnswer(0, f"cannot reach {server}: {type(e).__name__}: {e}")
    if r.status_code in (200, 201):
        try:
            version = str(r.json()["version"])
        except (ValueError, KeyError, TypeError):
            return DeployAnswer(502, f"{server} answered {r.status_code} without a version")
        verb = "created" if r.status_code == 201 else "updated"
        return DeployAnswer(
            r.status_code, f"{name}: {verb}, version {version}", version, r.status_code == 201
        )
    problems: list[Problem] = []
    if r.status_code == 422:
        try:
            raw = r.json().get("problems", [])
        except (ValueError, AttributeError):
            raw = []
        problems = [_problem(p) for p in raw if isinstance(p, dict)]
    return DeployAnswer(r.status_code, _refused(r), problems=problems)


def cmd_deploy(args: argparse.Namespace) -> int:
    # the file stack only when a command runs (`switchboard --help` needs none of it)
    from engine.core.errors import LoadError
    from engine.files.documents import parse_workflow, read_text

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
    if not args.server:
        print(
            "error: name the server: --server http://HOST:PORT (or set SWITCHBOARD_SERVER)",
            file=sys.stderr,
        )
        return 2
    token = args.token or os.environ.get("SWITCHBOARD_TOKEN")
    answer = deploy_text(args.server, loaded.model.name, data.decode("utf-8"), token)
    if answer.status == 0:
        print(f"error: {answer.message}", file=sys.stderr)
        return 2
    if not answer.ok:
        for p in answer.problems:
            print(p, file=sys.stderr)
        print(f"error: {answer.message}", file=sys.stderr)
        return 1
    print(f"{answer.message} ({args.server})")
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
