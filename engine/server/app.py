"""The HTTP API: Starlette routes over `Service` (events in, runs, SSE and WebSocket out).

Every error answers `{"error": {"type", "message"}}` with a message that says what to do.
Bodies are JSON, at most `max_body` bytes (413 beyond). An unknown event is not an error: 202
with no runs, as a message bus that nobody listens on accepts the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from engine.core.durations import parse_duration
from engine.server import shared
from engine.server.admin import ADMIN_HTML
from engine.server.auth import AuthMiddleware, Tokens
from engine.server.metrics import keep_fresh
from engine.server.openapi import DOCS_HTML, openapi_document
from engine.server.service import Filter, Service

__all__ = ["create_app", "MAX_BODY"]

MAX_BODY = 1024 * 1024


class ApiError(Exception):
    """An answer other than success: HTTP status, error type and a message for the caller."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status)


async def _body(request: Request, limit: int) -> Any:
    """The request's JSON body (None when empty); ApiError 413 or 400 when it is not usable."""
    raw = await _raw(request, limit)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        where = (
            f" at line {e.lineno}, column {e.colno}" if isinstance(e, json.JSONDecodeError) else ""
        )
        raise ApiError(
            400,
            "bad_json",
            f"the body is not valid JSON{where}: "
            f"{getattr(e, 'msg', e)}; send a JSON value "
            "(Content-Type: application/json)",
        ) from None


async def _raw(request: Request, limit: int) -> bytes:
    """The request's bytes; ApiError 413 past `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", f"the body is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    service: Service,
    *,
    max_body: int = MAX_BODY,
    grace_s: float = 0.0,
    tokens: Tokens | None = None,
    watch: bool = False,
    bus: str | None = None,
    bus_claim_idle_s: float = 60.0,
    bus_max_deliveries: int = 5,
) -> Starlette:
    """The ASGI app serving `service`; at shutdown its runs get `grace_s` seconds to finish.
    With `tokens`, every request but /healthz and /readyz needs a bearer token with the
    route's scope. With `watch`, a changed file in the folder is reloaded while serving; with
    `bus` (a redis:// URL), events are consumed from its stream too (entries other consumers
    left pending `bus_claim_idle_s` are claimed; one delivered `bus_max_deliveries` times
    without being processed goes to the dead-letter stream)."""

    def unknown_workflow(name: str) -> ApiError:
        entry = service.registry.get(name)
        if entry is not None:
            return ApiError(
                409,
                "invalid_workflow",
                f"workflow '{name}' has problems and is not "
                f"served: {'; '.join(str(p) for p in entry.problems[:3])}",
            )
        known = ", ".join(sorted(n for n, e in service.registry.entries.items() if e.ok))
        return ApiError(
            404,
            "not_found",
            f"there is no workflow '{name}' in "
            f"{service.folder}; known: {known or 'none'} (GET /workflows)",
        )

    def run_or_404(run_id: str) -> dict[str, Any]:
        got = service.run_json(run_id)
        if got is None:
            raise ApiError(404, "not_found", f"there is no run '{run_id}' (GET /runs lists them)")
        return got

    async def post_event(request: Request) -> Response:
        name = request.path_params["name"]
        data = await _body(request, max_body)
        if not service.accepting:
            raise ApiError(503, "stopping", "the server is shutting down; send the event again")
        key = request.headers.get("idempotency-key")
        ids, replayed = service.emit(name, data, key, flush=False)
        await service.flushed()  # the runs are stored before their ids are answered
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return JSONResponse({"event": name, "runs": ids}, status_code=202, headers=headers)

    async def post_run(request: Request) -> Response:
        name = request.path_params["name"]
        data = await _body(request, max_body)
        if not service.accepting:
            raise ApiError(503, "stopping", "the server is shutting down; start the run again")
        if service.registry.runnable(name) is None:
            raise unknown_workflow(name)
        wait = request.query_params.get("wait", "").lower() in ("1", "true", "yes")
        timeout_text = request.query_params.get("timeout", "30s")
        try:
            timeout_s = parse_duration(timeout_text) / 1000
        except ValueError as e:
            raise ApiError(400, "bad_timeout", f"timeout={timeout_text!r}: {e}") from None
        run_id = service.start_run(name, data, flush=False)
        result = await service.wait_result(run_id, timeout_s) if wait else None
        if result is not None:
            return JSONResponse(result, status_code=200)  # written with the result
        await service.flushed()  # the run is stored before its id is answered
        status = {"run": run_id, "workflow": name, "status": "running"}
        return JSONResponse(status, status_code=202, headers={"Location": f"/runs/{run_id}"})

    async def list_runs(request: Request) -> Response:
        q = request.query_params
        try:
            limit = max(1, min(500, int(q.get("limit", "50"))))
            cursor = float(q["cursor"]) if q.get("cursor") else None
        except ValueError:
            raise ApiError(
                400,
                "bad_query",
                "limit must be a whole number and cursor the `next` of a previous page",
            ) from None
        runs = service.store.list_runs(
            workflow=q.get("workflow"), status=q.get("status"), limit=limit, cursor=cursor
        )
        nxt = runs[-1]["created"] if len(runs) == limit else None
        return JSONResponse({"runs": [_summary(r) for r in runs], "next": nxt})

    async def get_run(request: Request) -> Response:
        return JSONResponse(run_or_404(request.path_params["id"]))

    async def cancel_run(request: Request) -> Response:
        run_id = request.path_params["id"]
        run = run_or_404(run_id)
        if not service.cancel(run_id):
            raise ApiError(
                409,
                "not_running",
                f"run '{run_id}' has ended ({run['status']}); only a running run can be cancelled",
            )
        await service.wait(run_id, 30)
        return JSONResponse(run_or_404(run_id))

    async def run_events(request: Request) -> Response:
        run_id = request.path_params["id"]
        run_or_404(run_id)
        last = request.headers.get("last-event-id", "0")
        after = int(last) if last.isdigit() else 0

        async def stream() -> AsyncIterator[str]:
            async for e in service.follow(Filter(run_id=run_id), after, until_run_end=True):
                yield f"id: {e.seq}\nevent: {e.kind}\ndata: {json.dumps(e.to_json())}\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    async def list_workflows(request: Request) -> Response:
        return JSONResponse(
            {
                "workflows": [e.to_json() for e in service.registry.entries.values()],
                "events": service.registry.events,
            }
        )

    async def get_workflow(request: Request) -> Response:
        entry = service.registry.get(request.path_params["name"])
        if entry is None:
            raise unknown_workflow(request.path_params["name"])
        return PlainTextResponse(
            entry.text, media_type="application/yaml", headers={"ETag": f'"{entry.version}"'}
        )

    async def put_workflow(request: Request) -> Response:
        name = request.path_params["name"]
        raw = await _raw(request, max_body)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "bad_text", "the workflow must be UTF-8 YAML text") from None
        existed = service.registry.get(name) is not None
        entry, problems = service.deploy(name, text)
        if entry is None:
            return JSONResponse(
                {
                    "error": {
                        "type": "invalid_workflow",
                        "message": (
                            f"workflow '{name}' was not deployed: {len(problems)} problem(s)"
                        ),
                    },
                    "problems": [p.to_json() | {"text": str(p)} for p in problems],
                },
                status_code=422,
            )
        return JSONResponse(entry.to_json(), status_code=200 if existed else 201)

    async def admin(request: Request) -> Response:
        return HTMLResponse(
            ADMIN_HTML,
            headers={
                "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; "
                "style-src 'unsafe-inline'; connect-src 'self' ws: wss:"
            },
        )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        # for this process only (serve --workers: the worker the kernel gave the connection)
        if not service.accepting:
            return _error(503, "stopping", "the server is shutting down")
        return JSONResponse(
            {
                "status": "ready",
                "workflows": len(service.registry.entries),
                "running": len(service.live),
                "worker": os.getpid(),  # which process answered (serve --workers)
            }
        )

    async def metrics(request: Request) -> Response:
        return Response(service.metrics.text(), media_type=CONTENT_TYPE_LATEST)

    async def docs(request: Request) -> Response:
        return HTMLResponse(DOCS_HTML)

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def ws(socket: WebSocket) -> None:
        q = socket.query_params
        levels = frozenset(x for x in q.get("level", "").split(",") if x)
        flt = Filter(
            run_id=q.get("run") or None,
            workflow=q.get("workflow") or None,
            levels=levels,
            notifications_only=q.get("kind") == "notification",
        )
        since = q.get("since", "")
        after = int(since) if since.isdigit() else service.store.last_seq()
        # "live from now" starts before the handshake ends: the admin page shows `live` once
        # open, and an event written between the two was once never sent
        await socket.accept()

        async def send() -> None:
            async for e in service.follow(flt, after):
                await socket.send_text(json.dumps(e.to_json()))

        async def until_closed() -> None:
            # the client sends nothing we use; reading is how its going away is noticed
            while (await socket.receive())["type"] != "websocket.disconnect":
                pass

        tasks = [asyncio.ensure_future(send()), asyncio.ensure_future(until_closed())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(WebSocketDisconnect, asyncio.CancelledError, RuntimeError):
                await asyncio.gather(*tasks, return_exceptions=True)

    def guard(handler: Any) -> Any:
        async def wrapped(request: Request) -> Response:
            try:
                response: Response = await handler(request)
                return response
            except ApiError as e:
                return _error(e.status, e.kind, e.message)

        return wrapped

    routes = [
        Route("/events/{name}", guard(post_event), methods=["POST"]),
        Route("/workflows", guard(list_workflows), methods=["GET"]),
        Route("/workflows/{name}", guard(get_workflow), methods=["GET"]),
        Route("/workflows/{name}", guard(put_workflow), methods=["PUT"]),
        Route("/workflows/{name}/runs", guard(post_run), methods=["POST"]),
        Route("/runs", guard(list_runs), methods=["GET"]),
        Route("/runs/{id}", guard(get_run), methods=["GET"]),
        Route("/runs/{id}/cancel", guard(cancel_run), methods=["POST"]),
        Route("/runs/{id}/events", guard(run_events), methods=["GET"]),
        Route("/", admin, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        WebSocketRoute("/ws", ws),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        watcher = asyncio.ensure_future(service.watch(stop)) if watch else None
        tail = asyncio.ensure_future(shared.tail(service, stop)) if service.shared else None
        # a worker's gauges are read by scrapes another worker answers
        fresh = asyncio.ensure_future(keep_fresh(service.metrics, stop)) if service.shared else None
        consumer = None
        if bus:
            from engine.server.redisbus import RedisBus

            consumer = RedisBus(
                bus,
                service,
                claim_idle_s=bus_claim_idle_s,
                max_deliveries=bus_max_deliveries,
            )
            await consumer.start()
        try:
            yield
        finally:
            if consumer is not None:
                await consumer.aclose()
            stop.set()
            for task in (watcher, tail, fresh):
                if task is not None:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await service.aclose(grace_s)

    middleware = [Middleware(AuthMiddleware, tokens=tokens)] if tokens is not None else []
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    result = run.get("result") or {}
    return {
        "run": run["run"],
        "workflow": run["workflow"],
        "version": run["version"],
        "status": run["status"],
        "created": run["created"],
        "duration_ms": result.get("duration_ms"),
        "error": run["error"],
    }
