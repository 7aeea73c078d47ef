"""Call steps at run time: building requests, attempts with timeouts and retries, foreach.

A call step sees its run through `StepContext` and makes each attempt through the run's
`Caller`; it never reaches into the scheduler. This is the engine's hot path: one call of a
10,000-step run goes through `run_item` once per attempt, so work that does not depend on the
attempt (templates, headers, the body's bytes) is done once per item, and records for sinks are
only built when some sink is listening.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from jmespath import exceptions as jexc

from engine.core.durations import format_duration
from engine.core.errors import ExpressionError, RunError, SecretMissing, StepFailed
from engine.core.expressions import (
    MAX_RESULT_SIZE,
    TemplateSyntaxError,
    render,
    result_size_over,
    root_references,
    split_template,
)
from engine.core.expressions import iter_expressions as _iter_expressions
from engine.core.model import CallDefaults, CallStep, ResolvedCall, RetryPolicy, resolve_call
from engine.runtime.events import CallRecord, StepRetrying, StepStarted
from engine.runtime.ports import (
    CallFailed,
    CallRequest,
    CallResponse,
    Services,
    StepContext,
    Tally,
)
from engine.runtime.retry import next_delay, retry_after_seconds, retry_matches
from engine.runtime.secrets import redact
from engine.runtime.wire import REDIRECT_STATUSES

__all__ = ["CallPlan", "run_call_step", "render_in"]

_NO_BODY_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
_BAD_HEADER = re.compile(r"[^\t\x20-\x7e]")
_EVAL_ERRORS = (jexc.JMESPathError, TemplateSyntaxError, TypeError, ValueError, KeyError)
# compact JSON; one encoder for all calls (json.dumps makes a new one whenever it is given options)
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def render_in(value: Any, scope: Mapping[str, Any], step_id: str, where: str) -> Any:
    """Render a template, turning any evaluation failure into an `expression` error."""
    try:
        out = render(value, scope)
    except _EVAL_ERRORS as e:
        raise ExpressionError(
            f"step '{step_id}': {where}: the expression failed: {e}; "
            "fix the ${ } expression in the workflow",
            step=step_id,
        ) from None
    if out is not value and isinstance(out, (list, dict, str)) and result_size_over(out):
        raise ExpressionError(
            f"step '{step_id}': {where}: the expression's result is larger than "
            f"{MAX_RESULT_SIZE // 1048576} MiB; make it select less",
            step=step_id,
        )
    return out


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return _JSON(value)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _mentions(value: Any, word: str) -> bool:
    if isinstance(value, str):
        return word in value
    if isinstance(value, dict):
        return any(_mentions(v, word) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, word) for v in value)
    return False


def _secret_names(values: list[Any]) -> list[str]:
    names: list[str] = []
    if not _mentions(values, "secrets"):
        return names  # the common case, checked without parsing any expression
    for value in values:
        for _, template in _iter_expressions(value):
            if "secrets" not in template:
                continue
            for chain in _template_refs(template):
                if len(chain) >= 2 and chain[0] == "secrets" and chain[1] not in names:
                    names.append(chain[1])
    return names


def _template_refs(template: str) -> list[list[str]]:

    out: list[list[str]] = []
    try:
        for seg in split_template(template):
            if seg.expr is not None:
                out.extend(root_references(seg.expr))
    except TemplateSyntaxError:
        return []  # reported when the template is rendered
    return out


class CallPlan:
    """A call step with defaults merged and everything the attempts share worked out."""

    __slots__ = (
        "step",
        "call",
        "target",
        "base_url",
        "secret_names",
        "policy",
        "timeout",
        "method",
        "send_input",
        "static_url",
        "on_error",
        "no_body",
        "follow_redirects",
        "max_response_bytes",
        "secret_headers",
        "secret_body",
        "unresolved",
        "ctype_key",
    )

    def __init__(
        self, step: CallStep, defaults: CallDefaults | None, services: Mapping[str, str]
    ) -> None:
        self.step = step
        self.call: ResolvedCall = resolve_call(step, defaults)
        self.target = f"{step.service}.{step.action}"
        self.base_url = (services.get(step.service) or f"http://{step.service}").rstrip("/")
        # a live environment that gives the service no URL: said when the call cannot connect
        self.unresolved: str | None = None
        if (
            isinstance(services, Services)
            and step.service not in services
            and self.target not in services.mocked
        ):
            self.unresolved = services.environment
        # the name the step gives its Content-Type header, if it gives one (names are not
        # templates: only values are)
        self.ctype_key = next((k for k in self.call.headers if k.lower() == "content-type"), None)
        self.secret_names = _secret_names(
            [self.call.path, step.with_, step.query, self.call.headers]
        )
        self.policy: RetryPolicy = self.call.retry
        self.timeout = self.call.timeout / 1000  # seconds, as the clock takes them
        self.method = self.call.method
        self.on_error = self.call.on_error
        self.send_input = self.method not in _NO_BODY_METHODS
        self.no_body = step.no_body
        # the step's own transfer keys, else the workflow's defaults (None: the environment's)
        d = defaults or _NO_DEFAULTS
        self.follow_redirects = (
            step.follow_redirects if step.follow_redirects is not None else d.follow_redirects
        )
        self.max_response_bytes = step.max_response_size or d.max_response_size
        # where secrets go, so that a redirect to another origin does not carry them there
        self.secret_headers: frozenset[str] = frozenset()
        self.secret_body = False
        if self.secret_names:
            self.secret_headers = frozenset(
                k.lower() for k, v in self.call.headers.items() if _mentions(v, "secrets")
            )
            self.secret_body = _mentions(step.with_, "secrets")
        # Most paths hold no template: build their URL once, not on every call.
        path = self.call.path
        self.static_url: str | None = None
        if "${" not in path:
            self.static_url = _join(self.base_url, path)


_NO_DEFAULTS = CallDefaults()


def _join(base: str, path: str) -> str:
    return base + (path if path.startswith("/") else "/" + path)


def _with_query(url: str, params: list[tuple[str, str]]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def _render_path(template: str, scope: Mapping[str, Any], sid: str) -> str:
    """A path with every `${ }` value percent-encoded as one segment (`/`, `?`, `#` and `..`
    included): run input can fill in a segment but never choose another endpoint."""
    try:
        segments = split_template(template)
    except TemplateSyntaxError as e:
        raise ExpressionError(
            f"step '{sid}': path: {e.message}; fix the ${{ }} expression in the workflow", step=sid
        ) from None
    out: list[str] = []
    for seg in segments:
        if seg.expr is None:
            out.append(seg.text)
        else:
            value = quote(_text(render_in("${" + seg.expr + "}", scope, sid, "path")), safe="")
            if value in (".", ".."):
                # a dot segment is removed by URL normalization (even as %2E): it would move
                # the request to another endpoint
                raise ExpressionError(
                    f"step '{sid}': path: ${{{seg.expr}}} gave '{value}', which would change the "
                    "endpoint called; check the run input",
                    step=sid,
                )
            out.append(value)
    return "".join(out)


def _query_params(
    items: Mapping[str, Any], scope: Mapping[str, Any], sid: str
) -> list[tuple[str, str]]:
    """Query parameters; a list value is the parameter repeated (`tags=a&tags=b`, OpenAPI's
    default form/explode), a null value or item leaves it out."""
    params: list[tuple[str, str]] = []
    for k, v in items.items():
        value = render_in(v, scope, sid, f"query.{k}")
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                params.append((k, _text(item)))
    return params


class _Request:
    """The parts of one item's request that every attempt shares."""

    __slots__ = ("url", "headers", "content", "body")

    def __init__(self, url: str, headers: dict[str, str], content: bytes | None, body: Any) -> None:
        self.url = url
        self.headers = headers
        self.content = content
        self.body = body


def _build_request(
    ctx: StepContext, cp: CallPlan, scope: Mapping[str, Any], index: int | None
) -> _Request:
    step = cp.step
    sid = step.id
    if cp.secret_names:
        values: dict[str, str] = {}
        for name in cp.secret_names:
            value = ctx.secrets.get(name)
            if value is None:
                var = ctx.secrets.variable(name)
                raise SecretMissing(
                    f"step '{sid}': secret '{name}' is not set: set the environment variable "
                    f"{var} (or name its source in the environment's secrets)",
                    step=sid,
                )
            values[name] = value
        scope = {**scope, "secrets": values}
    url = cp.static_url
    if url is None:
        url = _join(cp.base_url, _render_path(cp.call.path, scope, sid))
    headers: dict[str, str] = {}
    for k, v in cp.call.headers.items():
        value = render_in(v, scope, sid, f"headers.{k}") if isinstance(v, str) and "${" in v else v
        if value is not None:
            text = _text(value)
            if _BAD_HEADER.search(text):
                # the value is not shown: it may hold a secret
                raise ExpressionError(
                    f"step '{sid}': headers.{k}: the value holds a line break or a character "
                    "that is not printable ASCII, which a header cannot carry; check the data "
                    "it comes from (percent-encode or base64 it)",
                    step=sid,
                )
            headers[k] = text
    key = f"{ctx.run_id}:{sid}" if index is None else f"{ctx.run_id}:{sid}:{index}"
    headers["Idempotency-Key"] = key
    if step.query:
        params = _query_params(step.query, scope, sid)
        if params:
            url = _with_query(url, params)
    if step.with_ is None:
        body = ctx.input if cp.send_input and not cp.no_body else None
    else:
        body = render_in(step.with_, scope, sid, "with")
    content = None
    if body is not None:
        content = _encode_body(body, headers, cp.ctype_key, sid)
    return _Request(url, headers, content, body)


def _encode_body(body: Any, headers: dict[str, str], ctype_key: str | None, sid: str) -> bytes:
    """The body as the step's `Content-Type` (header `ctype_key`) says (JSON when it names
    none, and then the header is added): `application/x-www-form-urlencoded` encodes a mapping
    as a form (a list value repeats the field), `text/*` and other non-JSON types send text as
    it is."""
    if ctype_key is None or ctype_key not in headers:
        headers["Content-Type"] = "application/json"
        return _JSON(body).encode()
    ctype = headers[ctype_key].split(";", 1)[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        if not isinstance(body, dict):
            raise ExpressionError(
                f"step '{sid}': with: a form body is a mapping of fields, not "
                f"{type(body).__name__}; give `with` as key: value lines",
                step=sid,
            )
        fields = [
            (str(k), _text(item))
            for k, v in body.items()
            for item in (v if isinstance(v, list) else [v])
            if item is not None
        ]
        return urlencode(fields).encode()
    if "json" in ctype:
        return _JSON(body).encode()
    return _text(body).encode("utf-8")


async def run_item(
    ctx: StepContext, cp: CallPlan, tally: Tally, scope: Mapping[str, Any], index: int | None
) -> Any:
    """One call (a foreach item or the whole step) with its retries. Returns the output.

    Raises RunError subclasses for failures; `tally.attempts` and `tally.calls` grow as it goes.
    """
    step = cp.step
    sid = step.id
    req = _build_request(ctx, cp, scope, index)
    clock = ctx.clock
    caller = ctx.caller
    policy = cp.policy
    want_calls = ctx.listening
    request = CallRequest(
        cp.method,
        req.url,
        req.headers,
        req.content,
        req.body,
        cp.target,
        cp.timeout,
        ctx.run_id,
        follow_redirects=cp.follow_redirects,
        max_response_bytes=cp.max_response_bytes,
        secret_headers=cp.secret_headers,
        secret_body=cp.secret_body,
    )
    attempt = 0
    while True:
        attempt += 1
        tally.attempts += 1
        t0 = clock.now()
        if want_calls:
            ctx.emit(StepStarted(ctx.run_id, sid, attempt, t0, index))
        seq = ctx.next_seq()
        response: CallResponse | None = None
        status: int | None = None
        try:
            with clock.timeout(cp.timeout):  # a plain `with`: no coroutine per enter and exit
                response = await caller.call(request)
        except TimeoutError:
            kind, message = (
                "timeout",
                (f"{cp.target} gave no answer within {format_duration(cp.call.timeout)}"),
            )
        except asyncio.CancelledError:
            if want_calls:
                tally.calls.append(
                    _record(ctx, cp, attempt, index, req, None, "cancelled", "cancelled", t0, seq)
                )
            raise
        except CallFailed as e:
            kind, message, status = e.kind, e.message, e.status
            if kind == "connection" and cp.unresolved is not None:
                message += (
                    f" (the environment '{cp.unresolved}' gives service '{step.service}' no "
                    f"base URL, so {cp.base_url} was called: add it under "
                    f"environments.{cp.unresolved}.services)"
                )
        else:
            kind = "http"
            message = ""
            status = response.status
        if response is not None and 200 <= response.status < 300:
            if want_calls:
                tally.calls.append(
                    _record(ctx, cp, attempt, index, req, response, None, None, t0, seq)
                )
            if step.output is None:
                return response.body
            out_scope = {
                **scope,
                "body": response.body,
                "status": status,
                "headers": dict(response.headers),
            }
            return render_in(step.output, out_scope, sid, "output")
        if response is not None:
            message = f"{cp.target} answered HTTP {status}"
            location = response.headers.get("location") if 300 <= response.status < 400 else None
            if location:
                message += f" redirecting to {redact(location)}"
                if response.status in REDIRECT_STATUSES:
                    message += " (not followed: set followRedirects: true)"
            if response.body:
                # masked before it is cut: a cut must not leave half a secret showing
                message += f": {_cut(redact(_text(response.body)), 200)}"
        if want_calls:
            tally.calls.append(
                _record(ctx, cp, attempt, index, req, response, message, kind, t0, seq)
            )
        if (
            kind == "mock"
            or attempt >= policy.attempts
            or not retry_matches(policy.on, kind, status)
        ):
            raise StepFailed(message, step=sid, status=status, type=kind)
        ra = (
            retry_after_seconds(response.headers.get("retry-after"), clock.now())
            if response is not None
            else None
        )
        delay = next_delay(policy, attempt, ra, ctx.rng)
        ctx.emit(
            StepRetrying(
                ctx.run_id,
                sid,
                attempt,
                policy.attempts,
                delay,
                redact(message),
                clock.now(),
                index,
            )
        )
        await clock.sleep(delay)


def _record(
    ctx: StepContext,
    cp: CallPlan,
    attempt: int,
    index: int | None,
    req: _Request,
    response: CallResponse | None,
    error: str | None,
    error_type: str | None,
    t0: float,
    seq: int,
) -> CallRecord:
    request = {"method": cp.method, "url": req.url, "headers": dict(req.headers), "body": req.body}
    resp = None
    if response is not None:
        resp = {"status": response.status, "headers": dict(response.headers), "body": response.body}
    ms = int(round((ctx.clock.now() - t0) * 1000))
    return CallRecord(
        attempt,
        index,
        redact(request),
        redact(resp),
        redact(error) if error else None,
        ms,
        cp.target,
        seq,
        error_type,
        ms,
    )


async def run_call_step(ctx: StepContext, cp: CallPlan, tally: Tally) -> Any:
    """A call step's output: one call, or one per foreach item (in item order)."""
    step = cp.step
    if step.foreach is None:
        return await run_item(ctx, cp, tally, ctx.scope, None)
    items = render_in(step.foreach, ctx.scope, step.id, "foreach")
    if not isinstance(items, list):
        raise ExpressionError(
            f"step '{step.id}': foreach gave {_text(items)[:80]}, not a list; "
            "make the expression give a list",
            step=step.id,
        )
    outputs: list[Any] = [None] * len(items)
    if not items:
        return outputs
    limit = max(1, step.max_concurrency or 1)

    async def one(i: int) -> None:
        scope = {**ctx.scope, "item": items[i], "index": i}
        try:
            outputs[i] = await run_item(ctx, cp, tally, scope, i)
        except RunError as e:
            e.message = f"item {i}: {e.message}"
            e.args = (e.message,)
            raise

    if limit == 1 or len(items) == 1:
        for i in range(len(items)):
            await one(i)
        return outputs
    await _pool(ctx, one, len(items), limit, f"switchboard-{ctx.run_id}-{step.id}")
    return outputs


async def _pool(
    ctx: StepContext, one: Callable[[int], Awaitable[None]], n: int, limit: int, name: str
) -> None:
    """Run `one(i)` for every item with at most `limit` at once; the first failure wins."""
    clock = ctx.clock
    gate = clock.gate()
    next_index = iter(range(n))
    failure: list[BaseException] = []
    workers: list[asyncio.Task[None]] = []
    alive = [0]

    async def worker() -> None:
        try:
            for i in next_index:
                await one(i)
        except RunError as e:
            if not failure:
                failure.append(e)
                for w in workers:
                    if w is not asyncio.current_task():
                        clock.cancel(w)
                gate.open()
        finally:
            alive[0] -= 1
            if alive[0] == 0:
                gate.open()

    for _ in range(min(limit, n)):
        alive[0] += 1
        workers.append(clock.spawn(worker(), name=f"{name}-foreach"))
    try:
        await gate.wait()
    finally:
        for w in workers:
            clock.cancel(w)
        await asyncio.gather(*workers, return_exceptions=True)
    if failure:
        raise failure[0]
