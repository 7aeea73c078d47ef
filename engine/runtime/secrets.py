"""Secrets: where `secrets.NAME` comes from at run time, and redaction of their values as `***`.

A secret is read from `SWITCHBOARD_SECRET_<NAME>` (or the variable an environment names for it).
Every value handed out is remembered process-wide, so `redact()` can hide it anywhere it might
surface later: events, error messages, recordings, console output.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["SecretSource", "redact", "register_secret", "MASK", "ENV_PREFIX"]

MASK = "***"
ENV_PREFIX = "SWITCHBOARD_SECRET_"

_lock = threading.Lock()
_known: set[str] = set()
# Longest first, so a secret that contains another is masked whole.
_ordered: tuple[str, ...] = ()


def encodings(value: str) -> set[str]:
    """Every form a value takes on its way out: as is, JSON-escaped (a log line, `--json`, a
    recording), percent-encoded (a query or a path), and base64 (an `Authorization: Basic`
    header), so that each can be masked."""
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote_plus(value),
        quote(value, safe="/"),
    }
    raw = value.encode("utf-8")
    for b64 in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = b64.decode("ascii")
        forms.update((text, text.rstrip("=")))
    return forms


def register_secret(value: str) -> None:
    """Remember a value as secret: `redact` masks it, in every encoding, from now on."""
    global _ordered
    # Very short values would mask unrelated text everywhere ("1", "a"); they are still never
    # written by the engine itself, but redaction of free text needs a floor.
    if not value or len(value) < 3 or value in _known:
        return
    with _lock:
        # an encoded form must be long enough not to turn up by chance: a short base64 form
        # masked pieces of random run ids (hex) in outputs
        _known.update(form for form in encodings(value) if form == value or len(form) >= 8)
        _known.add(value)
        _ordered = tuple(sorted(_known, key=len, reverse=True))


def _redact_text(text: str, secrets: tuple[str, ...]) -> str:
    for s in secrets:
        if s in text:
            text = text.replace(s, MASK)
    return text


def redact(value: Any) -> Any:
    """`value` with every known secret shown as `***` (strings, dict keys and values, lists)."""
    secrets = _ordered
    if not secrets:
        return value
    return _redact(value, secrets)


def _redact(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return _redact_text(value, secrets)
    if isinstance(value, dict):
        return {
            (_redact_text(k, secrets) if isinstance(k, str) else k): _redact(v, secrets)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(_redact(v, secrets) for v in value)
    return value


def has_secrets() -> bool:
    return bool(_ordered)


class SecretSource:
    """Reads secrets from a mapping of environment variables.

    `environ` is the variables to read (a host passes `os.environ`, or the variables a job
    carries; the engine itself never reads the process environment). `mapping` (from an
    environment's `secrets:`) names the variable for a secret; any other secret NAME is read from
    `SWITCHBOARD_SECRET_NAME`. `values` gives values directly (tests, embedding applications);
    they take precedence.
    """

    def __init__(
        self,
        mapping: Mapping[str, str] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
    ) -> None:
        self._mapping = dict(mapping or {})
        self._environ: Mapping[str, str] = environ if environ is not None else {}
        self._values = dict(values or {})
        for v in self._values.values():
            register_secret(v)

    def variable(self, name: str) -> str:
        """The environment variable that holds secret `name`."""
        return self._mapping.get(name, ENV_PREFIX + name)

    def get(self, name: str) -> str | None:
        """The secret's value, or None when it is not set."""
        if name in self._values:
            return self._values[name]
        value = self._environ.get(self.variable(name))
        if value is not None:
            register_secret(value)
        return value

    def redact(self, value: Any) -> Any:
        return redact(value)
