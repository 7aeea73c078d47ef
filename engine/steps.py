"""Call steps at run time: building requests, attempts with timeouts and retries, foreach.

This is the runner's hot path: one call of a 10,000-step run goes through `run_item` once per
attempt, so work that does not depend on the attempt (templates, headers, the body's bytes) is
done once per item, and records for sinks are only built when some sink is listening.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import httpx
from jmespath import exceptions as jexc

from engine.errors import ExpressionError, RunError, SecretMissing, StepFailed
from engine.events import CallRecord, StepRetrying, StepStarted
from engine.expressions import TemplateSyntaxError, render, root_references
from engine.expressions import iter_expressions as _iter_expressions
from engine.mocktransport import NoMock
from engine.model import CallDefaults, CallStep, ResolvedCall, RetryPolicy, resolve_call
from engine.secrets import redact
from engine.transport import BODY, TARGET, classify_error, describe_error

if TYPE_CHECKING:
    from engine.runner import _Run, _StepState

__all__ = ["CallPlan", "run_call_step", "retry_matches", "retry_after_seconds", "parse_body",
           "render_in"]

_NO_BODY_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
_MISSING = object()
_EVAL_ERRORS = (jexc.JMESPathError, TemplateSyntaxError, TypeError, ValueError, KeyError)


def render_in(value: Any, scope: Mapping[str, Any], step_id: str, where: str) -> Any:
    """Render a template, turning any evaluation failure into an `expression` error."""
    try:
        return render(value, scope)
    except _EVAL_ERRORS as e:
        raise ExpressionError(
            f"step '{step_id}': {where}: the expression failed: {e}; "
            "fix the ${ } expression in the workflow", step=step_id) from None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


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
    from engine.expressions import split_template

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

    __slots__ = ("step", "call", "target", "base_url", "secret_names", "policy", "timeout",
                 "timeouts", "method", "send_input", "static_url")

    def __init__(self, step: CallStep, defaults: CallDefaults | None,
                 services: Mapping[str, str]) -> None:
        self.step = step
        self.call: ResolvedCall = resolve_call(step, defaults)
        self.target = f"{step.service}.{step.action}"
        self.base_url = (services.get(step.service) or f"http://{step.service}").rstrip("/")
        self.secret_names = _secret_names(
            [self.call.path, step.with_, step.query, self.call.headers])
        self.policy: RetryPolicy = self.call.retry
        self.timeout = self.call.timeout
        self.timeouts = {"connect": self.timeout, "read": self.timeout,
                         "write": self.timeout, "pool": self.timeout}
        self.method = self.call.method
        self.send_input = self.method not in _NO_BODY_METHODS
        # Most paths hold no template: parse their URL once, not on every call.
        path = self.call.path
        self.static_url: httpx.URL | None = None
        if "${" not in path:
            self.static_url = _url(self.base_url + (path if path.startswith("/") else "/" + path))


@lru_cache(maxsize=1024)
def _url(text: str) -> httpx.URL:
    """Parsed URLs, shared (httpx.URL is immutable): a run of 10,000 steps mostly repeats a few."""
    return httpx.URL(text)


def retry_matches(on: tuple[str | int, ...], kind: str, status: int | None) -> bool:
    """Does a failure of `kind` (and HTTP `status`) match a retry `on` list?"""
    for cond in on:
        if isinstance(cond, int):
            if status == cond:
                return True
            continue
        if cond == kind:
            return True
        if status is not None and kind == "http":
            if len(cond) == 3 and cond.endswith("xx") and cond[0].isdigit():
                if status // 100 == int(cond[0]):
                    return True
            elif cond.isdigit() and int(cond) == status:
                return True
    return False


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A `Retry-After` header (seconds or an HTTP date) as seconds from `now`."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now)


def parse_body(response: httpx.Response) -> Any:
    """A response body: parsed JSON, else text; None when empty."""
    body = response.extensions.get(BODY, _MISSING)
    if body is not _MISSING:
        return body
    raw = response.content
    if not raw:
        return None
    ctype = response.headers.get("content-type", "")
    if not ctype or "json" in ctype:
        try:
            return json.loads(raw)
        except ValueError:
            pass
    return response.text


class _Request:
    """The parts of one item's request that every attempt shares."""

    __slots__ = ("url", "headers", "params", "content", "body")

    def __init__(self, url: httpx.URL, headers: dict[str, str], params: dict[str, str] | None,
                 content: bytes | None, body: Any) -> None:
        self.url = url
        self.headers = headers
        self.params = params
        self.content = content
        self.body = body


def _build_request(run: _Run, cp: CallPlan, scope: Mapping[str, Any],
                   index: int | None) -> _Request:
    step = cp.step
    sid = step.id
    if cp.secret_names:
        values: dict[str, str] = {}
        for name in cp.secret_names:
            value = run.engine.secrets.get(name)
            if value is None:
                var = run.engine.secrets.variable(name)
                raise SecretMissing(
                    f"step '{sid}': secret '{name}' is not set: set the environment variable "
                    f"{var} (or name its source in the environment's secrets)", step=sid)
            values[name] = value
        scope = {**scope, "secrets": values}
    url = cp.static_url
    if url is None:
        path = _text(render_in(cp.call.path, scope, sid, "path"))
        url = httpx.URL(cp.base_url + (path if path.startswith("/") else "/" + path))
    headers: dict[str, str] = {}
    for k, v in cp.call.headers.items():
        value = render_in(v, scope, sid, f"headers.{k}") if isinstance(v, str) and "${" in v else v
        if value is not None:
            headers[k] = _text(value)
    key = f"{run.run_id}:{sid}" if index is None else f"{run.run_id}:{sid}:{index}"
    headers["Idempotency-Key"] = key
    params: dict[str, str] | None = None
    if step.query:
        params = {}
        for k, v in step.query.items():
            value = render_in(v, scope, sid, f"query.{k}")
            if value is not None:
                params[k] = _text(value)
    if step.with_ is None:
        body = run.input if cp.send_input else None
    else:
        body = render_in(step.with_, scope, sid, "with")
    content = None
    if body is not None:
        content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    if params:
        url = url.copy_merge_params(params)
    return _Request(url, headers, params, content, body)


def _fail_kind(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, NoMock):
        return "mock", str(exc)
    return classify_error(exc), describe_error(exc)


async def run_item(run: _Run, cp: CallPlan, st: _StepState, scope: Mapping[str, Any],
                   index: int | None) -> Any:
    """One call (a foreach item or the whole step) with its retries. Returns the output.

    Raises RunError subclasses for failures; `st.attempts` and `st.calls` grow as it goes.
    """
    step = cp.step
    sid = step.id
    req = _build_request(run, cp, scope, index)
    engine = run.engine
    clock = engine.clock
    client = engine.client
    policy = cp.policy
    want_calls = run.listening
    extensions = {TARGET: cp.target, BODY: req.body, "timeout": cp.timeouts}
    attempt = 0
    while True:
        attempt += 1
        st.attempts += 1
        t0 = clock.now()
        if want_calls:
            run.emit(StepStarted(run.run_id, sid, attempt, t0, index))
        seq = engine.next_seq()
        request = httpx.Request(cp.method, req.url, headers=req.headers,
                                content=req.content, extensions=extensions)
        response: httpx.Response | None = None
        try:
            async with clock.timeout(cp.timeout):
                response = await client.send(request)
        except TimeoutError:
            kind, message = "timeout", f"{cp.target} gave no answer within {cp.timeout:g}s"
        except asyncio.CancelledError:
            if want_calls:
                st.calls.append(_record(run, cp, attempt, index, req, None, None, "cancelled",
                                        "cancelled", t0, seq))
            raise
        except (httpx.HTTPError, httpx.InvalidURL) as e:
            kind, message = _fail_kind(e)
            message = f"{cp.target}: {message}"
        else:
            kind = "http"
            message = ""
        status = response.status_code if response is not None else None
        body = parse_body(response) if response is not None else None
        if response is not None and 200 <= response.status_code < 300:
            if want_calls:
                st.calls.append(_record(run, cp, attempt, index, req, response, body, None, None,
                                        t0, seq))
            if step.output is None:
                return body
            out_scope = {**scope, "body": body, "status": status,
                         "headers": dict(response.headers)}
            return render_in(step.output, out_scope, sid, "output")
        if response is not None:
            message = f"{cp.target} answered HTTP {status}"
            if body:
                message += f": {_text(body)[:200]}"
        if want_calls:
            st.calls.append(_record(run, cp, attempt, index, req, response, body, message, kind,
                                    t0, seq))
        if kind == "mock" or attempt >= policy.attempts \
                or not retry_matches(policy.on, kind, status):
            raise StepFailed(message, step=sid, status=status, type=kind)
        delay = policy.delay_before(attempt)
        ra = retry_after_seconds(response.headers.get("retry-after"), clock.now()) \
            if response is not None else None
        if ra is not None:
            delay = min(policy.max_delay, ra)
        elif policy.jitter == "full":
            delay *= engine.rng.random()
        run.emit(StepRetrying(run.run_id, sid, attempt, policy.attempts, delay,
                              redact(message), clock.now(), index))
        await clock.sleep(delay)


def _record(run: _Run, cp: CallPlan, attempt: int, index: int | None, req: _Request,
            response: httpx.Response | None, body: Any, error: str | None,
            error_type: str | None, t0: float, seq: int) -> CallRecord:
    request = {"method": cp.method, "url": str(req.url), "headers": dict(req.headers),
               "body": req.body}
    resp = None
    if response is not None:
        resp = {"status": response.status_code, "headers": dict(response.headers), "body": body}
    ms = int(round((run.engine.clock.now() - t0) * 1000))
    return CallRecord(attempt, index, redact(request), redact(resp),
                      redact(error) if error else None, ms, cp.target, seq, error_type, ms)


async def run_call_step(run: _Run, cp: CallPlan, st: _StepState) -> Any:
    """A call step's output: one call, or one per foreach item (in item order)."""
    step = cp.step
    if step.foreach is None:
        return await run_item(run, cp, st, run.scope, None)
    items = render_in(step.foreach, run.scope, step.id, "foreach")
    if not isinstance(items, list):
        raise ExpressionError(
            f"step '{step.id}': foreach gave {_text(items)[:80]}, not a list; "
            "make the expression give a list", step=step.id)
    outputs: list[Any] = [None] * len(items)
    if not items:
        return outputs
    limit = max(1, step.max_concurrency or 1)

    async def one(i: int) -> None:
        scope = {**run.scope, "item": items[i], "index": i}
        try:
            outputs[i] = await run_item(run, cp, st, scope, i)
        except RunError as e:
            e.message = f"item {i}: {e.message}"
            e.args = (e.message,)
            raise

    if limit == 1 or len(items) == 1:
        for i in range(len(items)):
            await one(i)
        return outputs
    return await _pool(run, one, len(items), limit, outputs)


async def _pool(run: _Run, one: Any, n: int, limit: int, outputs: list[Any]) -> list[Any]:
    """Run `one(i)` for every item with at most `limit` at once; the first failure wins."""
    clock = run.engine.clock
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
        workers.append(clock.spawn(worker(), name=f"{cp_name(run)}-foreach"))
    try:
        await gate.wait()
    finally:
        for w in workers:
            clock.cancel(w)
        await asyncio.gather(*workers, return_exceptions=True)
    if failure:
        raise failure[0]
    return outputs


def cp_name(run: _Run) -> str:
    return f"switchboard-{run.run_id}"
