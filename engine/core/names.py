"""Names and ids: what a step id, a workflow, service, action or event name may be, the ids a
step gets when its file gives none, unique ids for new steps, and "did you mean" suggestions."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from engine.core.model import CallStep, Step, step_kind

__all__ = [
    "ID_RE",
    "NAME_RE",
    "SERVICE_RE",
    "EVENT_RE",
    "TARGET_RE",
    "METHODS",
    "base_id",
    "default_step_ids",
    "unique_id",
    "suggest",
    "parse_target",
]

ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # a step id
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")  # a workflow name
SERVICE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")  # a service or an action
EVENT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]*$")  # an event name
TARGET_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_-]*$")  # Service.action
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def suggest(word: str, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the closest choice, or nothing."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def base_id(step: Step) -> str:
    """The id a step gets when the file gives none, before `_2`, `_3`… on repeats."""
    if isinstance(step, CallStep):
        return step.action
    return step_kind(step)


def default_step_ids(bases: list[str], explicit: list[str | None]) -> list[str]:
    """Fill in ids: the explicit one, else the base name, `_2`, `_3`… skipping any taken id.

    `bases[i]` is step i's base id, `explicit[i]` the id its file gives (or None).
    """
    taken = {e for e in explicit if e}
    counts: dict[str, int] = {}
    out: list[str] = []
    for base, given in zip(bases, explicit):
        counts[base] = counts.get(base, 0) + 1
        if given:
            out.append(given)
            continue
        n = counts[base]
        candidate = base if n == 1 else f"{base}_{n}"
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        counts[base] = n
        taken.add(candidate)
        out.append(candidate)
    return out


def unique_id(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted_2`, `wanted_3`… (an existing `_<n>` suffix is continued)."""
    if wanted not in taken:
        return wanted
    m = re.match(r"^(.*)_(\d+)$", wanted)
    stem, n = (m.group(1), int(m.group(2))) if m else (wanted, 1)
    while True:
        n += 1
        candidate = f"{stem}_{n}"
        if candidate not in taken:
            return candidate


def parse_target(text: str) -> tuple[str, str]:
    """`Service.action` -> (service, action); raises ValueError saying what is wrong."""
    text = text.strip()
    if "." not in text:
        raise ValueError("write Service.action, e.g. BillingService.charge")
    service, action = text.split(".", 1)
    for what, name in (("service", service), ("action", action)):
        if not SERVICE_RE.match(name):
            raise ValueError(
                f"the {what} name {name!r} must start with a letter and hold only "
                "letters, digits, '_' or '-'"
            )
    return service, action
