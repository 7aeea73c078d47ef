"""The server's API described as OpenAPI 3.1 (served at `/openapi.json`)."""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_document"]


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": schema or {"type": "object"}}}}


_ERROR = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "type": {"type": "string"}, "message": {"type": "string"}}}}}
_RUN_RESULT = {"type": "object", "description": "FORMAT.md's run result", "properties": {
    "run": {"type": "string"}, "workflow": {"type": "string"},
    "status": {"enum": ["succeeded", "failed", "cancelled"]}, "started": {"type": "string"},
    "duration_ms": {"type": "integer"}, "steps": {"type": "object"}, "output": {},
    "error": {"type": ["object", "null"]}}}
_STARTED = {"type": "object", "properties": {"event": {"type": "string"},
                                             "runs": {"type": "array",
                                                      "items": {"type": "string"}}}}
_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_BODY = {"content": {"application/json": {"schema": {}}}, "required": False}
_BAD = {"400": _json("the body is not JSON", _ERROR), "413": _json("the body is too large", _ERROR)}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of every route."""
    paths: dict[str, Any] = {
        "/events/{name}": {"post": {
            "summary": "Publish an event: start every workflow whose trigger names it",
            "parameters": [_NAME, {"name": "Idempotency-Key", "in": "header",
                                   "schema": {"type": "string"}}],
            "requestBody": _BODY,
            "responses": {"202": _json("the runs started (none for an unknown event)", _STARTED),
                          **_BAD}}},
        "/workflows": {"get": {"summary": "Workflows with trigger, version hash and problems",
                               "responses": {"200": _json("the workflows")}}},
        "/workflows/{name}": {"get": {
            "summary": "The workflow's YAML", "parameters": [_NAME],
            "responses": {"200": {"description": "YAML",
                                  "content": {"application/yaml": {"schema": {}}}},
                          "404": _json("no such workflow", _ERROR)}},
            "put": {"summary": "Deploy the workflow (YAML body)", "parameters": [_NAME],
                    "requestBody": {"content": {"application/yaml": {"schema": {}}}},
                    "responses": {"200": _json("replaced"), "201": _json("created"),
                                  "422": _json("problems, with file:line:col")}}},
        "/workflows/{name}/runs": {"post": {
            "summary": "Start a run (the body is its input)",
            "parameters": [_NAME,
                           {"name": "wait", "in": "query", "schema": {"type": "boolean"}},
                           {"name": "timeout", "in": "query", "schema": {"type": "string"},
                            "description": "with wait: how long to wait (default 30s)"}],
            "requestBody": _BODY,
            "responses": {"200": _json("with wait: the run result", _RUN_RESULT),
                          "202": _json("started (or still running after the timeout)"),
                          "404": _json("no such workflow", _ERROR),
                          "409": _json("the workflow has problems", _ERROR), **_BAD}}},
        "/runs": {"get": {
            "summary": "Runs, newest first",
            "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}}
                           for n in ("workflow", "status", "limit", "cursor")],
            "responses": {"200": _json("a page of runs and the `next` cursor")}}},
        "/runs/{id}": {"get": {"summary": "A run: result, or step states while it runs",
                               "parameters": [_ID],
                               "responses": {"200": _json("the run"),
                                             "404": _json("no such run", _ERROR)}}},
        "/runs/{id}/cancel": {"post": {"summary": "Cancel a running run", "parameters": [_ID],
                                       "responses": {"200": _json("the cancelled run"),
                                                     "409": _json("not running", _ERROR)}}},
        "/runs/{id}/events": {"get": {
            "summary": "The run's events as Server-Sent Events (Last-Event-ID resumes)",
            "parameters": [_ID],
            "responses": {"200": {"description": "text/event-stream",
                                  "content": {"text/event-stream": {"schema": {}}}}}}},
        "/healthz": {"get": {"summary": "Alive", "responses": {"200": _json("ok")}}},
        "/readyz": {"get": {"summary": "Ready for events",
                            "responses": {"200": _json("ready"), "503": _json("stopping")}}},
    }
    return {"openapi": "3.1.0",
            "info": {"title": "Switchboard server", "version": "1",
                     "description": "Events in, workflow runs, notifications out. WebSocket "
                                    "/ws?workflow=&run=&level=&kind=notification&since=SEQ "
                                    "streams stored events as JSON."},
            "paths": paths}
