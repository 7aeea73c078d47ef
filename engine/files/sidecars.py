"""Mocks, environments and tests files (the files that travel beside a workflow): data -> model."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from engine.core.durations import DurationError, parse_duration
from engine.core.errors import Collector
from engine.core.model import (
    Environment,
    EnvironmentsFile,
    MockResponse,
    MocksFile,
    TestCase,
    TestExpect,
    TestsFile,
    Tls,
)
from engine.core.names import TARGET_RE, suggest
from engine.core.types import ERROR_TYPES, FAULTS, RUN_STATUSES, STEP_STATUSES
from engine.files.folder import FileKind, kind_from_name
from engine.files.shapes import (
    as_map,
    check_keys,
    opt_bool,
    opt_size,
    opt_str,
    opt_str_map,
    parse_version,
    type_name,
)

__all__ = [
    "parse_mocks_data",
    "parse_environments_data",
    "parse_tests_data",
    "detect_kind",
    "MOCK_RESPONSE_KEYS",
    "MOCKS_FILE_KEYS",
    "ENVIRONMENTS_FILE_KEYS",
    "ENVIRONMENT_KEYS",
    "TESTS_FILE_KEYS",
    "TEST_CASE_KEYS",
    "TEST_EXPECT_KEYS",
    "SINK_KINDS",
    "TLS_KEYS",
]

MOCK_RESPONSE_KEYS = frozenset({"status", "headers", "body", "delay", "fault"})
MOCKS_FILE_KEYS = frozenset({"version", "mocks", "scenarios"})
ENVIRONMENTS_FILE_KEYS = frozenset({"version", "default", "environments"})
ENVIRONMENT_KEYS = frozenset(
    {
        "services",
        "mocks",
        "notify",
        "secrets",
        "engine",
        "temporal",
        "followRedirects",
        "maxResponseSize",
        "tls",
    }
)
ENGINES = ("local", "temporal")
TEMPORAL_KEYS = frozenset({"address", "namespace", "taskQueue"})
TLS_KEYS = frozenset({"ca", "cert", "key", "verify"})
TESTS_FILE_KEYS = frozenset({"version", "workflow", "mocks", "cases"})
TEST_CASE_KEYS = frozenset({"name", "input", "scenario", "env", "expect"})
TEST_EXPECT_KEYS = frozenset({"status", "steps", "output", "calls", "error"})
SINK_KINDS = ("webhook", "file", "console", "email")
Path = tuple[str | int, ...]


def detect_kind(data: Any, file: str = "") -> FileKind | None:
    """`workflow`, `mocks`, `environments` or `tests`, from the name or else the top-level keys."""
    kind = kind_from_name(file)
    if kind is not None:
        return kind
    if isinstance(data, dict):
        if "steps" in data:
            return "workflow"
        if "mocks" in data and "cases" not in data:
            return "mocks"
        if "environments" in data:
            return "environments"
        if "cases" in data:
            return "tests"
    return None


# --- mocks -----------------------------------------------------------------------------------


def _response(c: Collector, v: Any, path: Path) -> MockResponse | None:
    m = as_map(c, v, path, "a mock response")
    if m is None:
        return None
    check_keys(c, m, MOCK_RESPONSE_KEYS, path, "a mock response")
    r = MockResponse()
    status = m.get("status")
    if status is not None:
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            c.add(
                f"'status' must be an HTTP status code from 100 to 599, not {status!r}",
                path + ("status",),
            )
        else:
            r.status = status
    headers = opt_str_map(c, m, "headers", path)
    if headers:
        r.headers = {k: str(v) for k, v in headers.items()}
    r.body = m.get("body")
    if m.get("delay") is not None:
        try:
            r.delay = parse_duration(m["delay"])
        except DurationError as e:
            c.add(f"'delay': {e}", path + ("delay",))
    fault = opt_str(c, m, "fault", path)
    if fault is not None:
        if fault not in FAULTS:
            c.add(
                f"'fault' must be 'timeout' or 'connection', not '{fault}'{suggest(fault, FAULTS)}",
                path + ("fault",),
            )
        else:
            r.fault = fault
            extra = [k for k in ("status", "body", "headers") if k in m]
            if extra:
                c.add(
                    f"a fault response has no {', '.join(extra)}: a '{fault}' fault never "
                    "answers; remove them or the fault",
                    path + ("fault",),
                )
    return r


def _mock_table(c: Collector, v: Any, path: Path, what: str) -> dict[str, list[MockResponse]]:
    m = as_map(c, v, path, what)
    out: dict[str, list[MockResponse]] = {}
    for key, entry in (m or {}).items():
        p = path + (key,)
        if not TARGET_RE.match(key):
            c.add(
                f"a mock is keyed 'Service.action' (e.g. PolicyService.updatePolicy), not '{key}'",
                p,
                key=True,
            )
        if isinstance(entry, list):
            if not entry:
                c.add("an empty list answers nothing: give at least one response", p)
            responses = [_response(c, e, p + (i,)) for i, e in enumerate(entry)]
        else:
            responses = [_response(c, entry, p)]
        out[key] = [r for r in responses if r is not None]
    return out


def parse_mocks_data(c: Collector, data: Any) -> MocksFile | None:
    d = as_map(c, data, (), "a mocks file")
    if d is None:
        return None
    parse_version(c, d, "mocks file")
    check_keys(c, d, MOCKS_FILE_KEYS, (), "a mocks file")
    mf = MocksFile()
    if d.get("mocks") is not None:
        mf.mocks = _mock_table(c, d["mocks"], ("mocks",), "'mocks'")
    if d.get("scenarios") is not None:
        sm = as_map(c, d["scenarios"], ("scenarios",), "'scenarios'")
        for name, table in (sm or {}).items():
            mf.scenarios[name] = _mock_table(c, table, ("scenarios", name), f"scenario '{name}'")
    return mf


# --- environments ----------------------------------------------------------------------------


def _str_list(c: Collector, v: Any, path: Path, what: str) -> list[str]:
    items = v if isinstance(v, list) else [v]
    out = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            out.append(item)
        else:
            c.add(
                f"{what} must be text, not {type_name(item)}",
                path + (i,) if isinstance(v, list) else path,
            )
    return out


def _environment(c: Collector, v: Any, path: Path) -> Environment:
    env = Environment()
    m = as_map(c, v, path, "an environment")
    if m is None:
        return env
    check_keys(c, m, ENVIRONMENT_KEYS, path, "an environment")
    services = opt_str_map(c, m, "services", path)
    for name, url in (services or {}).items():
        url = str(url)
        problem = _base_url_problem(url)
        if problem:
            c.add(f"service '{name}': {problem}", path + ("services", name))
        env.services[name] = url
    if m.get("mocks") is not None:
        env.mocks = _str_list(c, m["mocks"], path + ("mocks",), "a mocks file path")
    if m.get("notify") is not None:
        raw = m["notify"] if isinstance(m["notify"], list) else [m["notify"]]
        for i, sink in enumerate(raw):
            p = path + ("notify", i) if isinstance(m["notify"], list) else path + ("notify",)
            sm = as_map(c, sink, p, "a notification sink")
            if sm is None:
                continue
            kinds = [k for k in sm if k in SINK_KINDS]
            if len(kinds) != 1:
                c.add(
                    "a notification sink is one of {webhook: URL}, {file: PATH}, "
                    "{console: true} or {email: {host, from, to, …}}",
                    p,
                )
                continue
            check_keys(c, sm, {kinds[0], "levels"}, p, "a notification sink")
            if kinds[0] == "email" and not _email_ok(c, sm["email"], p + ("email",)):
                continue
            if kinds[0] == "webhook" and isinstance(sm["webhook"], dict):
                hook = sm["webhook"]
                check_keys(c, hook, {"url", "secret", "attempts"}, p + ("webhook",), "a webhook")
                if not str(hook.get("url", "")).startswith(("http://", "https://")):
                    c.add("a webhook needs url: an http:// or https:// URL", p + ("webhook",))
                    continue
            env.notify.append(dict(sm))
    secrets = opt_str_map(c, m, "secrets", path)
    if secrets:
        env.secrets = {k: str(v) for k, v in secrets.items()}
    _engine(c, m, env, path)
    env.follow_redirects = opt_bool(c, m, "followRedirects", path)
    env.max_response_size = opt_size(c, m, "maxResponseSize", path)
    if m.get("tls") is not None:
        env.tls = _tls(c, m["tls"], path + ("tls",))
    return env


def _engine(c: Collector, m: dict[str, Any], env: Environment, path: Path) -> None:
    """`engine: temporal` with `temporal: {address: HOST:PORT, namespace, taskQueue}`."""
    engine = opt_str(c, m, "engine", path)
    if engine is not None and engine not in ENGINES:
        c.add(
            f"'engine' is one of {', '.join(ENGINES)}, not '{engine}'{suggest(engine, ENGINES)}",
            path + ("engine",),
        )
        return
    env.engine = engine
    target = opt_str_map(c, m, "temporal", path)
    if target is not None:
        check_keys(c, target, TEMPORAL_KEYS, path + ("temporal",), "'temporal'")
        env.temporal = {k: str(v) for k, v in target.items() if k in TEMPORAL_KEYS}
    if engine == "temporal" and not re.match(r"^[^\s:]+:\d+$", env.temporal.get("address", "")):
        where = path + ("temporal",) if target is not None else path + ("engine",)
        c.add(
            "engine: temporal needs temporal: {address: HOST:PORT} (the Temporal frontend, "
            "e.g. 127.0.0.1:7233)",
            where,
        )
    elif target is not None and engine != "temporal":
        c.add("'temporal' is used only with engine: temporal", path + ("temporal",))


def _tls(c: Collector, value: Any, path: Path) -> Tls | None:
    """`tls: {ca, cert, key, verify}`: files stay as written (the host resolves them)."""
    m = as_map(c, value, path, "'tls' ({ca, cert, key, verify})")
    if m is None:
        return None
    check_keys(c, m, TLS_KEYS, path, "'tls'")
    tls = Tls(
        ca=opt_str(c, m, "ca", path),
        cert=opt_str(c, m, "cert", path),
        key=opt_str(c, m, "key", path),
    )
    verify = opt_bool(c, m, "verify", path)
    if verify is not None:
        tls.verify = verify
    if tls.key is not None and tls.cert is None:
        c.add("'tls': a 'key' needs the 'cert' it belongs to", path + ("key",))
    return tls


def _base_url_problem(url: str) -> str | None:
    """What is wrong with a service's base URL, or None."""
    if not re.match(r"^https?://[^\s/]+", url):
        return f"needs an http:// or https:// base URL, not '{url}'"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises for a port that is not a number
    except ValueError as e:
        return f"'{url}' is not a valid URL ({e}); write it as http://host:port/path"
    if not parts.hostname:
        return f"'{url}' names no host; write it as http://host:port/path"
    if parts.query or parts.fragment:
        return (
            f"a base URL has no query or fragment ('{url}'): a step's path is added after "
            "it; put parameters in the steps' `query`"
        )
    return None


EMAIL_KEYS = frozenset(
    {"host", "port", "starttls", "username", "password", "from", "to", "subject", "timeout"}
)


def _email_ok(c: Collector, value: Any, path: tuple[str | int, ...]) -> bool:
    """An email sink's settings: a mapping with host, from and to (the sink reads the rest)."""
    m = as_map(c, value, path, "an email sink's settings ({host, from, to, …})")
    if m is None:
        return False
    check_keys(c, m, EMAIL_KEYS, path, "an email sink")
    missing = [k for k in ("host", "from", "to") if not m.get(k)]
    if missing:
        c.add(f"an email sink needs {', '.join(missing)}", path)
    return not missing


def parse_environments_data(c: Collector, data: Any) -> EnvironmentsFile | None:
    d = as_map(c, data, (), "an environments file")
    if d is None:
        return None
    parse_version(c, d, "environments file")
    check_keys(c, d, ENVIRONMENTS_FILE_KEYS, (), "an environments file")
    ef = EnvironmentsFile(default=opt_str(c, d, "default", ()))
    em = (
        as_map(c, d.get("environments"), ("environments",), "'environments'")
        if "environments" in d
        else None
    )
    if "environments" not in d:
        c.add("the environments file has no 'environments': add at least one", ())
    for name, env in (em or {}).items():
        ef.environments[name] = _environment(c, env, ("environments", name))
    if ef.default is not None and em is not None and ef.default not in em:
        c.add(
            f"'default' names '{ef.default}', which is not an environment here"
            f"{suggest(ef.default, em)}",
            ("default",),
        )
    return ef


# --- tests -----------------------------------------------------------------------------------


def _expect(c: Collector, v: Any, path: Path) -> TestExpect:
    ex = TestExpect()
    m = as_map(c, v, path, "'expect'")
    if m is None:
        return ex
    check_keys(c, m, TEST_EXPECT_KEYS, path, "expect")
    ex.status = opt_str(c, m, "status", path)
    if ex.status is not None and ex.status not in RUN_STATUSES:
        c.add(
            f"'status' is one of {', '.join(RUN_STATUSES)}, not '{ex.status}'"
            f"{suggest(ex.status, RUN_STATUSES)}",
            path + ("status",),
        )
    steps = opt_str_map(c, m, "steps", path) or {}
    for sid, st in steps.items():
        if st not in STEP_STATUSES:
            c.add(
                f"a step's status is one of {', '.join(STEP_STATUSES)}, not '{st}'"
                f"{suggest(str(st), STEP_STATUSES)}",
                path + ("steps", sid),
            )
    ex.steps = {k: str(v) for k, v in steps.items()}
    if "output" in m:
        ex.output, ex.has_output = m["output"], True
    calls = as_map(c, m["calls"], path + ("calls",), "'calls'") if "calls" in m else None
    for key, n in (calls or {}).items():
        if not TARGET_RE.match(key):
            c.add(
                f"'calls' is keyed 'Service.action', not '{key}'", path + ("calls", key), key=True
            )
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            c.add(f"a call count is a whole number >= 0, not {n!r}", path + ("calls", key))
        else:
            ex.calls[key] = n
    if "error" in m:
        em = as_map(c, m["error"], path + ("error",), "'error'")
        if em is not None:
            check_keys(c, em, {"type", "step", "message", "status"}, path + ("error",), "error")
            if "type" in em and em["type"] not in ERROR_TYPES:
                c.add(
                    f"an error type is one of {', '.join(ERROR_TYPES)}, not {em['type']!r}"
                    f"{suggest(str(em['type']), ERROR_TYPES)}",
                    path + ("error", "type"),
                )
            ex.error = dict(em)
    return ex


def parse_tests_data(c: Collector, data: Any) -> TestsFile | None:
    d = as_map(c, data, (), "a tests file")
    if d is None:
        return None
    parse_version(c, d, "tests file")
    check_keys(c, d, TESTS_FILE_KEYS, (), "a tests file")
    tf = TestsFile(workflow=opt_str(c, d, "workflow", ()) or "", mocks=opt_str(c, d, "mocks", ()))
    if "workflow" not in d:
        c.add("the tests file has no 'workflow': name the workflow file it tests", ())
    cases = d.get("cases")
    if not isinstance(cases, list):
        c.add(
            "'cases' must be a list of test cases"
            if cases is not None
            else "the tests file has no 'cases': add a list of test cases",
            ("cases",) if cases is not None else (),
        )
        return tf
    names: set[str] = set()
    for i, raw in enumerate(cases):
        p: Path = ("cases", i)
        m = as_map(c, raw, p, "a test case")
        if m is None:
            continue
        check_keys(c, m, TEST_CASE_KEYS, p, "a test case")
        case = TestCase(
            name=opt_str(c, m, "name", p) or f"case {i + 1}",
            input=m.get("input"),
            scenario=opt_str(c, m, "scenario", p),
            env=opt_str(c, m, "env", p),
        )
        if case.name in names:
            c.add(f"two test cases are named '{case.name}': give each its own name", p + ("name",))
        names.add(case.name)
        if "expect" in m:
            case.expect = _expect(c, m["expect"], p + ("expect",))
        else:
            c.add("a test case needs 'expect' (at least 'status')", p)
        tf.cases.append(case)
    return tf
