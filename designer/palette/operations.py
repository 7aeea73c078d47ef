"""Palette entries for OpenAPI operations: the operationId over its method, path and summary,
and a payload that carries the call step a drop makes (method, path, query, body skeleton)."""

from __future__ import annotations

from typing import Any

from engine import ServiceCatalog

__all__ = ["operation_entry", "operation_label"]

_SUMMARY_MAX = 60  # characters of the summary on the entry's second line (all of it in the tip)


def operation_label(op: Any) -> str:
    """`listPets` over `GET /pets · List all pets` (two lines)."""
    summary = op.summary.strip().splitlines()[0] if op.summary.strip() else ""
    if len(summary) > _SUMMARY_MAX:
        summary = summary[: _SUMMARY_MAX - 1] + "…"
    second = f"{op.method} {op.path}" + (f" · {summary}" if summary else "")
    return f"{op.operation_id}\n{second}"


def operation_entry(
    catalog: ServiceCatalog, service: str, action: str
) -> tuple[str, dict[str, Any], str, str] | None:
    """(label, payload, icon name, tooltip) of `Service.action` when an operation of an
    imported spec stands behind it; None for an action known only from mocks or steps."""
    op = catalog.operation(service, action)
    step = catalog.step_data(service, action)
    if op is None or step is None:
        return None
    params = [f"{p.name} ({p.where}{', required' if p.required else ''})" for p in op.parameters]
    tip = "\n".join(
        part
        for part in (
            f"{service}.{op.operation_id}: {op.method} {op.path}",
            op.summary.strip(),
            ("Parameters: " + ", ".join(params)) if params else "",
            "Drag onto the canvas or double-click to add a call step with its method, path, "
            "required query parameters and body.",
        )
        if part
    )
    payload = {"kind": "call", "service": service, "action": action, "step": step}
    return operation_label(op), payload, "call", tip
