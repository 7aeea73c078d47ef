"""Steps on the clipboard and in drags: MIME payloads to and from engine model steps.

Copied steps travel as `application/x-switchboard-steps` (JSON: each step's fields with its
kind, their positions, and the notes copied with them) and as YAML text for pasting into an
editor. The palette drags one
new step as `application/x-switchboard-step` (JSON: `{"kind": "call", "service": …}`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication, QMimeData
from PySide6.QtGui import QGuiApplication

from engine import (
    AnyStep,
    CallStep,
    Comment,
    EmitStep,
    Note,
    NotifyStep,
    Retry,
    WaitStep,
    Workflow,
    dump_workflow,
    parse_workflow,
    step_kind,
)

__all__ = [
    "STEPS_MIME",
    "STEP_MIME",
    "steps_to_mime",
    "steps_from_mime",
    "notes_from_mime",
    "step_from_palette",
    "step_to_json",
    "step_from_json",
    "copy_steps",
    "release_clipboard",
]

STEPS_MIME = "application/x-switchboard-steps"
STEP_MIME = "application/x-switchboard-step"
_CLASSES: dict[str, type[Any]] = {
    "call": CallStep,
    "wait": WaitStep,
    "emit": EmitStep,
    "notify": NotifyStep,
}


def step_to_json(step: AnyStep) -> dict[str, Any]:
    data = dataclasses.asdict(step)
    data["kind"] = step_kind(step)
    # the step's YAML comments go with it (keyed by paths, which JSON keys cannot be)
    data["comments"] = [[list(p), dataclasses.asdict(c)] for p, c in step.comments.items()]
    return data


def step_from_json(data: dict[str, Any]) -> AnyStep:
    """Rebuild a step; raises ValueError naming what is wrong with the payload."""
    kind = data.get("kind")
    cls = _CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown step kind {kind!r}: expected call, wait, emit or notify")
    names = {f.name for f in dataclasses.fields(cls)}
    fields = {k: v for k, v in data.items() if k in names}
    if isinstance(fields.get("retry"), dict):
        fields["retry"] = Retry(
            **{
                k: v
                for k, v in fields["retry"].items()
                if k in {f.name for f in dataclasses.fields(Retry)}
            }
        )
    fields["after"] = [str(a) for a in fields.get("after") or []]
    fields["comments"] = _comments_from_json(fields.get("comments"))
    step: AnyStep = cls(**fields)
    return step


def _comments_from_json(raw: Any) -> dict[tuple[str | int, ...], Comment]:
    out: dict[tuple[str | int, ...], Comment] = {}
    names = {f.name for f in dataclasses.fields(Comment)}
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, list) and len(item) == 2 and isinstance(item[1], dict):
            out[tuple(item[0])] = Comment(**{k: v for k, v in item[1].items() if k in names})
    return out


def steps_to_mime(
    steps: list[AnyStep], layout: dict[str, tuple[float, float]], notes: Sequence[Note] = ()
) -> QMimeData:
    """Clipboard data for `steps` and `notes` (edges to steps outside the list are kept; paste
    drops them)."""
    payload = {
        "version": 1,
        "steps": [step_to_json(s) for s in steps],
        "layout": {s.id: list(layout[s.id]) for s in steps if s.id in layout},
        "notes": [{"text": n.text, "at": list(n.at)} for n in notes],
    }
    mime = QMimeData()
    mime.setData(STEPS_MIME, json.dumps(payload, default=str).encode("utf-8"))
    mime.setText(_yaml_for(steps, layout, notes))
    return mime


def copy_steps(
    steps: list[AnyStep], layout: dict[str, tuple[float, float]], notes: Sequence[Note] = ()
) -> None:
    """Put steps and notes on the system clipboard (rich payload and YAML text)."""
    app = QCoreApplication.instance()
    if app is not None and not app.property("switchboard_clipboard_guard"):
        app.setProperty("switchboard_clipboard_guard", True)
        app.aboutToQuit.connect(release_clipboard)
    QGuiApplication.clipboard().setMimeData(steps_to_mime(steps, layout, notes))


def release_clipboard() -> None:
    """Keep only the YAML text of copied steps on the clipboard.

    Qt 6.11 crashes at exit (segfault in QClipboard's teardown, seen offscreen) when the
    clipboard still owns a QMimeData with custom formats made from Python; plain text does
    not, and it is what other applications can paste anyway.
    """
    if QCoreApplication.instance() is None:
        return
    board = QGuiApplication.clipboard()
    mime = board.mimeData()
    if mime is not None and mime.hasFormat(STEPS_MIME):
        board.setText(mime.text())


def _yaml_for(
    steps: list[AnyStep], layout: dict[str, tuple[float, float]], notes: Sequence[Note]
) -> str:
    ids = {s.id for s in steps}
    inside = [dataclasses.replace(s, after=[a for a in s.after if a in ids]) for s in steps]
    wf = Workflow(
        name="clipboard",
        steps=inside,
        layout={k: v for k, v in layout.items() if k in ids},
        notes=list(notes),
    )
    return dump_workflow(wf)


def steps_from_mime(mime: QMimeData) -> tuple[list[AnyStep], dict[str, tuple[float, float]]]:
    """Steps and positions from clipboard data; ([], {}) when it holds none.

    Plain text is accepted when it is a whole workflow file (pasting YAML from an editor).
    """
    if mime.hasFormat(STEPS_MIME):
        try:
            payload = json.loads(bytes(mime.data(STEPS_MIME).data()).decode("utf-8"))
            steps = [step_from_json(d) for d in payload.get("steps", [])]
            layout = {k: (float(v[0]), float(v[1])) for k, v in payload.get("layout", {}).items()}
            return steps, layout
        except (ValueError, TypeError, KeyError, AttributeError):
            return [], {}
    if mime.hasText() and "steps:" in mime.text():
        loaded = parse_workflow(mime.text(), "<clipboard>")
        if loaded.model is not None:
            return list(loaded.model.steps), dict(loaded.model.layout)
    return [], {}


def notes_from_mime(mime: QMimeData) -> list[Note]:
    """The notes copied with steps; [] when there are none (or the data is not ours)."""
    if mime.hasFormat(STEPS_MIME):
        try:
            payload = json.loads(bytes(mime.data(STEPS_MIME).data()).decode("utf-8"))
            return [
                Note(str(n["text"]), (float(n["at"][0]), float(n["at"][1])))
                for n in payload.get("notes", [])
            ]
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return []
    if mime.hasText() and "notes:" in mime.text():
        loaded = parse_workflow(mime.text(), "<clipboard>")
        if loaded.model is not None:
            return list(loaded.model.notes)
    return []


def step_from_palette(data: bytes) -> AnyStep:
    """A new step from a palette drag payload; raises ValueError for a bad payload."""
    try:
        spec = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"the dragged step is not JSON: {e}") from None
    if not isinstance(spec, dict):
        raise ValueError("the dragged step must be a JSON object with a 'kind'")
    kind = spec.get("kind")
    if kind == "call":
        service = str(spec.get("service") or "Service")
        action = str(spec.get("action") or "action")
        step = spec.get("step")
        if isinstance(step, dict):  # an OpenAPI operation's step, as a file writes it
            query = step.get("query")
            return CallStep(
                id=action,
                service=service,
                action=action,
                method=str(step["method"]) if step.get("method") else None,
                path=str(step["path"]) if step.get("path") else None,
                query=dict(query) if isinstance(query, dict) else None,
                with_=step.get("with"),
            )
        return CallStep(id=action, service=service, action=action)
    if kind == "wait":
        return WaitStep(id="wait", wait=float(spec.get("wait", 1.0)))
    if kind == "emit":
        return EmitStep(id="emit", event=str(spec.get("event") or "event"))
    if kind == "notify":
        return NotifyStep(
            id="notify",
            message=str(spec.get("message") or "message"),
            level=str(spec.get("level") or "info"),
        )
    raise ValueError(f"unknown step kind {kind!r}: expected call, wait, emit or notify")
