"""`run --check-contract`: each response a live run gets from a service with an imported
OpenAPI spec is checked against its operation's response schema; every mismatch is a warning
event (a `Notification` of level `warning` naming the step, the status and the JSON path).

A sink of the run's events, so the engine's calls are not slowed or changed: a response is
checked once its step has finished, in the call records the step reports (secrets in them are
already `***`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine.files.contracts import DescribedService, described_services
from engine.files.openapi import schema_errors
from engine.runtime.events import CallRecord, Event, Notification, Sink, StepFinished

__all__ = ["ContractCheck", "json_path", "is_contract_warning"]

_MAX_PER_CALL = 20  # mismatches reported per response; a list of 10,000 bad items says enough
# how every message of `check` starts: `step <id>: <Service.action> answered <status>`
_WARNING_RE = re.compile(r"step [^\s:]+: [A-Za-z][\w-]*\.\S+ answered \d+[:,]")


def is_contract_warning(message: str) -> bool:
    """Whether a warning notification is a contract mismatch (for a front end that lists them
    apart, as the designer's Problems does)."""
    return _WARNING_RE.match(message) is not None


def json_path(where: Sequence[str | int]) -> str:
    """A place in a value as a JSON path: `$`, `$.pets[0].id`, `$["a b"]`."""
    out = "$"
    for part in where:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += "[" + repr(part).replace("'", '"') + "]"
    return out


class ContractCheck:
    """A sink: checks the responses in each finished step's calls; `forward` gets a warning
    Notification per mismatch, which `warnings` also keeps (as text) for the run's outcome."""

    def __init__(
        self,
        folder: Path,
        forward: Callable[[], Sequence[Sink]],
        services: dict[str, DescribedService] | None = None,
    ) -> None:
        # what cannot be checked, and why (a service file or a spec that cannot be read)
        self.unchecked: list[str] = []
        if services is None:
            unread: list[str] = []
            services = described_services(folder, unread)
            self.unchecked = [f"{u}; --check-contract skips it" for u in unread]
        self.unchecked += [
            f"{d.file}: its spec cannot be read ({d.error}); --check-contract skips "
            f"{d.description.service}"
            for d in services.values()
            if d.spec is None and d.error
        ]
        self.services = services
        self.forward = forward
        self.warnings: list[str] = []

    def __call__(self, event: Event) -> None:
        if not isinstance(event, StepFinished) or not self.services:
            return
        for call in event.calls:
            for message in self.check(event.step, call):
                self.warnings.append(message)
                note = Notification(event.run_id, event.step, "warning", message, event.time)
                for sink in self.forward():
                    sink(note)

    def check(self, step: str, call: CallRecord) -> list[str]:
        """The mismatches of one attempt's response (none without a response or a spec)."""
        if call.response is None or "." not in call.target:
            return []
        service, action = call.target.split(".", 1)
        described = self.services.get(service)
        if described is None or described.spec is None:
            return []
        op = described.spec.operations.get(action)
        if op is None:
            return []
        status = int(call.response.get("status") or 0)
        head = f"step {step}: {call.target} answered {status}"
        declared, schema = op.response_schema(status)
        if not declared:
            statuses = ", ".join(op.responses) or "none"
            return [f"{head}, a status {op.operation_id} does not declare (it has {statuses})"]
        body: Any = call.response.get("body")
        if schema is None or body is None:
            return []
        found = schema_errors(described.spec, schema, body)
        out = [
            f"{head}: the body breaks {op.operation_id}'s {status} response schema at "
            f"{json_path(where)}: {message}"
            for where, message in found[:_MAX_PER_CALL]
        ]
        if len(found) > _MAX_PER_CALL:
            out.append(f"{head}: {len(found) - _MAX_PER_CALL} more mismatches not listed")
        return out
