"""Bearer tokens with scopes (`emit`, `read`, `deploy`, `admin`): the tokens file and an ASGI
middleware that checks every request but `/healthz`, `/readyz` and the admin page (`/`, which
holds no data and asks for a token itself).

The tokens file (`--tokens FILE`, strict YAML like every Switchboard file) holds no token in
clear text: each token is given as the SHA-256 of its value, or as the environment variable
holding it.

```yaml
version: 1
tokens:
  portal: {sha256: 9f86d08…, scopes: [emit, read]}
  ops: {env: SWITCHBOARD_OPS_TOKEN, scopes: [admin]}
```

`admin` grants every scope. A WebSocket may send its token as `?token=` (browsers cannot set
headers on one). A token's value never appears in an answer or a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from engine.core.errors import LoadError, Problem
from engine.files.documents import read_text
from engine.files.yamlread import read_yaml

__all__ = ["SCOPES", "Token", "Tokens", "load_tokens", "scope_for", "AuthMiddleware"]

SCOPES = ("emit", "read", "deploy", "admin")
OPEN_PATHS = ("/healthz", "/readyz", "/")  # the admin page holds no data: it asks for a token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Token:
    name: str
    digest: bytes  # SHA-256 of the token's value
    scopes: frozenset[str]


class Tokens:
    """The known tokens; `find` answers the one a presented value is (constant-time compare)."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens

    def find(self, value: str) -> Token | None:
        digest = hashlib.sha256(value.encode()).digest()
        found = None
        for token in self.tokens:  # no early exit: every compare takes the same time
            if hmac.compare_digest(token.digest, digest):
                found = token
        return found


def load_tokens(path: Path, environ: Mapping[str, str]) -> Tokens:
    """Read a tokens file. Raises LoadError with located problems."""
    data, loc = read_yaml(read_text(path), str(path))
    problems: list[Problem] = []

    def bad(message: str, where: tuple[str | int, ...]) -> None:
        problems.append(loc.problem(message, where))

    if not isinstance(data, dict) or data.get("version") != 1:
        raise LoadError(
            [
                Problem(
                    "a tokens file starts with 'version: 1' and holds 'tokens:'",
                    (),
                    str(path),
                    1,
                    1,
                )
            ]
        )
    out: list[Token] = []
    entries = data.get("tokens") or {}
    if not isinstance(entries, dict):
        bad("'tokens' is a mapping: name -> {sha256 or env, scopes}", ("tokens",))
        entries = {}
    for name, spec in entries.items():
        where: tuple[str | int, ...] = ("tokens", name)
        if not isinstance(spec, dict):
            bad("expected {sha256: HEX, scopes: [...]} or {env: VARIABLE, scopes: [...]}", where)
            continue
        scopes = spec.get("scopes") or []
        unknown = [s for s in scopes if s not in SCOPES] if isinstance(scopes, list) else [scopes]
        if unknown or not scopes:
            bad(f"scopes must be a list of {', '.join(SCOPES)}; got {scopes!r}", (*where, "scopes"))
            continue
        if "sha256" in spec:
            try:
                digest = bytes.fromhex(str(spec["sha256"]))
            except ValueError:
                digest = b""
            if len(digest) != 32:
                bad("sha256 must be 64 hex digits (sha256sum of the token)", (*where, "sha256"))
                continue
        elif "env" in spec:
            value = environ.get(str(spec["env"]))
            if not value:
                bad(f"the variable {spec['env']} is not set: set it to the token", (*where, "env"))
                continue
            digest = hashlib.sha256(value.encode()).digest()
        else:
            bad("give the token as sha256: HEX or env: VARIABLE", where)
            continue
        out.append(Token(str(name), digest, frozenset(scopes)))
    if problems:
        raise LoadError(problems)
    return Tokens(out)


def scope_for(method: str, path: str) -> str | None:
    """The scope a request needs (None: open to all)."""
    if path in OPEN_PATHS:
        return None
    if path.startswith("/events/") or (
        path.startswith("/workflows/") and path.endswith("/runs") and method == "POST"
    ):
        return "emit"
    if path.startswith("/workflows/") and method == "PUT":
        return "deploy"
    if path.endswith("/cancel"):
        return "admin"
    return "read"


class AuthMiddleware:
    """401 without a known bearer token, 403 when it lacks the scope (WebSocket: close 1008)."""

    def __init__(self, app: App, tokens: Tokens) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        needed = scope_for(scope.get("method", "GET"), scope["path"])
        if needed is None:
            await self.app(scope, receive, send)
            return
        value = _presented(scope)
        token = self.tokens.find(value) if value else None
        if token is not None and (needed in token.scopes or "admin" in token.scopes):
            await self.app(scope, receive, send)
            return
        if token is None:
            status, kind = 401, "unauthorized"
            message = (
                "a bearer token is needed: send 'Authorization: Bearer TOKEN'"
                if not value
                else "the bearer token is not known: check it against the tokens file"
            )
        else:
            status, kind = 403, "forbidden"
            message = (
                f"token '{token.name}' lacks the scope '{needed}' "
                f"(it has {', '.join(sorted(token.scopes))})"
            )
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
            return
        body = json.dumps({"error": {"type": kind, "message": message}}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="switchboard"'))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _presented(scope: Scope) -> str:
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            text = value.decode("latin-1")
            if text[:7].lower() == "bearer ":
                return str(text[7:].strip())
    if scope["type"] == "websocket":
        got = parse_qs(scope.get("query_string", b"").decode()).get("token")
        if got:
            return str(got[0])
    return ""
