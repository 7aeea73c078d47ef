"""The server's API described as OpenAPI 3.1 (served at `/openapi.json`)."""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_document", "DOCS_HTML"]

# /docs: the OpenAPI document as a readable page, built in the browser from /openapi.json
# (no CDN, no build step; values set as text only)
DOCS_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Switchboard API</title><style>body{font:14px system-ui,sans-serif;max-width:60em;
margin:2em auto;padding:0 1em}code{background:#f0f3f6;padding:1px 4px}.m{display:inline-block;
width:4.5em;font-weight:bold}li{margin:2px 0}</style></head><body><h1>Switchboard API</h1>
<p id="about"></p><div id="paths"></div><p><a href="/openapi.json">openapi.json</a></p>
<script>"use strict";
fetch("/openapi.json").then(r => r.json()).then(doc => {
  document.getElementById("about").textContent = doc.info.description;
  const root = document.getElementById("paths");
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const h = document.createElement("h3"), m = document.createElement("span");
      m.className = "m"; m.textContent = method.toUpperCase(); h.append(m);
      const c = document.createElement("code"); c.textContent = path; h.append(c);
      const p = document.createElement("p"); p.textContent = op.summary || "";
      const ul = document.createElement("ul");
      for (const [code, r] of Object.entries(op.responses || {})) {
        const li = document.createElement("li"); li.textContent = code + ": " + r.description;
        ul.append(li);
      }
      root.append(h, p, ul);
    }
  }
});
</script></body></html>
"""


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
_RUN_RESULT = {
    "type": "object",
    "description": "FORMAT.md's run result",
    "properties": {
        "run": {"type": "string"},
        "workflow": {"type": "string"},
        "status": {"enum": ["succeeded", "failed", "cancelled"]},
        "started": {"type": "string"},
        "duration_ms": {"type": "integer"},
        "steps": {"type": "object"},
        "output": {},
        "error": {"type": ["object", "null"]},
    },
}
_STARTED = {
    "type": "object",
    "properties": {
        "event": {"type": "string"},
        "runs": {"type": "array", "items": {"type": "string"}},
    },
}
_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_BODY = {"content": {"application/json": {"schema": {}}}, "required": False}
_BAD = {"400": _json("the body is not JSON", _ERROR), "413": _json("the body is too large", _ERROR)}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of every route."""
    paths: dict[str, Any] = {
        "/events/{name}": {
            "post": {
                "summary": "Publish an event: start every workflow whose trigger names it",
                "parameters": [
                    _NAME,
                    {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}},
                ],
                "requestBody": _BODY,
                "responses": {
                    "202": _json("the runs started (none for an unknown event)", _STARTED),
                    **_BAD,
                },
            }
        },
        "/workflows": {
            "get": {
                "summary": "Workflows with trigger, version hash and problems",
                "responses": {"200": _json("the workflows")},
            }
        },
        "/workflows/{name}": {
            "get": {
                "summary": "The workflow's YAML",
                "parameters": [_NAME],
                "responses": {
                    "200": {"description": "YAML", "content": {"application/yaml": {"schema": {}}}},
                    "404": _json("no such workflow", _ERROR),
                },
            },
            "put": {
                "summary": "Deploy the workflow (YAML body)",
                "parameters": [_NAME],
                "requestBody": {"content": {"application/yaml": {"schema": {}}}},
                "responses": {
                    "200": _json("replaced"),
                    "201": _json("created"),
                    "422": _json("problems, with file:line:col"),
                },
            },
        },
        "/workflows/{name}/runs": {
            "post": {
                "summary": "Start a run (the body is its input)",
                "parameters": [
                    _NAME,
                    {"name": "wait", "in": "query", "schema": {"type": "boolean"}},
                    {
                        "name": "timeout",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "with wait: how long to wait (default 30s)",
                    },
                ],
                "requestBody": _BODY,
                "responses": {
                    "200": _json("with wait: the run result", _RUN_RESULT),
                    "202": _json("started (or still running after the timeout)"),
                    "404": _json("no such workflow", _ERROR),
                    "409": _json("the workflow has problems", _ERROR),
                    **_BAD,
                },
            }
        },
        "/runs": {
            "get": {
                "summary": "Runs, newest first",
                "parameters": [
                    {"name": n, "in": "query", "schema": {"type": "string"}}
                    for n in ("workflow", "status", "limit", "cursor")
                ],
                "responses": {"200": _json("a page of runs and the `next` cursor")},
            }
        },
        "/runs/{id}": {
            "get": {
                "summary": "A run: result, or step states while it runs",
                "parameters": [_ID],
                "responses": {"200": _json("the run"), "404": _json("no such run", _ERROR)},
            }
        },
        "/runs/{id}/cancel": {
            "post": {
                "summary": "Cancel a running run",
                "parameters": [_ID],
                "responses": {
                    "200": _json("the cancelled run"),
                    "409": _json("not running", _ERROR),
                },
            }
        },
        "/runs/{id}/events": {
            "get": {
                "summary": "The run's events as Server-Sent Events (Last-Event-ID resumes)",
                "parameters": [_ID],
                "responses": {
                    "200": {
                        "description": "text/event-stream",
                        "content": {"text/event-stream": {"schema": {}}},
                    }
                },
            }
        },
        "/healthz": {"get": {"summary": "Alive", "responses": {"200": _json("ok")}}},
        "/readyz": {
            "get": {
                "summary": "Ready for events",
                "responses": {"200": _json("ready"), "503": _json("stopping")},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard server",
            "version": "1",
            "description": "Events in, workflow runs, notifications out. WebSocket "
            "/ws?workflow=&run=&level=&kind=notification&since=SEQ "
            "streams stored events as JSON.",
        },
        "paths": paths,
    }
