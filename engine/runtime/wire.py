"""What every live Caller does the same way: settings (TLS, proxies, redirects, size limit),
bounded reading of a body, decoding it, and following redirects.

The Callers (`http.HttpxCaller`, `aiohttp_caller.AiohttpCaller`) differ only in how one request
goes out; everything a user can observe — which redirects are followed and what they carry, when
a body is too large, how it is decoded, the messages — comes from here, so it is one behaviour.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from engine.core.sizes import DEFAULT_RESPONSE_SIZE, describe_size
from engine.runtime.ports import CallFailed, CallRequest, CallResponse

__all__ = [
    "HttpSettings",
    "TlsError",
    "MAX_REDIRECTS",
    "REDIRECT_STATUSES",
    "USER_AGENT",
    "ResponseTooLarge",
    "too_large",
    "unreadable",
    "read_limited",
    "decode_body",
    "follow",
    "following",
    "proxy_for",
]

USER_AGENT = "switchboard"  # the same from every Caller (httpx and aiohttp name themselves)
MAX_REDIRECTS = 10  # hops one attempt may follow (browsers allow ~20; APIs need one or two)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# dropped when a redirect leaves the origin, besides the headers a secret went into
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


class TlsError(ValueError):
    """A TLS setting that cannot be used (a file missing or not PEM, a key that does not fit)."""


_CONTEXTS: dict[tuple[object, ...], ssl.SSLContext] = {}


def _mtime(path: str | None) -> int | None:
    try:
        return os.stat(path).st_mtime_ns if path else None
    except OSError:
        return None


@dataclass(frozen=True)
class HttpSettings:
    """How an engine's live calls go out; a step's own `followRedirects`/`maxResponseSize` win.

    `ca`, `cert`, `key` are paths (absolute, or relative to the working directory). `environ`
    is where `HTTP(S)_PROXY`/`NO_PROXY` are read (default: the process's, as httpx's and curl's
    `trust_env` do); `SSL_CERT_FILE`/`SSL_CERT_DIR` are honoured by OpenSSL's default paths.
    """

    follow_redirects: bool = False
    max_response_bytes: int = DEFAULT_RESPONSE_SIZE
    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    verify: bool = True
    environ: Mapping[str, str] | None = None

    def ssl_context(self) -> ssl.SSLContext:
        """The context for https: the system's CAs (or SSL_CERT_FILE's), plus `ca`, with the
        client certificate; no verification at all with `verify=False`. Raises TlsError.

        Shared by every engine with the same settings: loading the system's CAs takes tens of
        milliseconds, and the command line, the designer's worker and tests make an engine
        per job."""
        env = os.environ
        key = (
            self.ca,
            self.cert,
            self.key,
            self.verify,
            env.get("SSL_CERT_FILE"),
            env.get("SSL_CERT_DIR"),
            *(_mtime(p) for p in (self.ca, self.cert, self.key)),  # a file replaced: reload
        )
        ctx = _CONTEXTS.get(key)
        if ctx is None:
            ctx = _CONTEXTS[key] = self._new_context()
        return ctx

    def _new_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        try:
            if self.ca:
                ctx.load_verify_locations(cafile=self.ca)
            if self.cert:
                ctx.load_cert_chain(self.cert, self.key)
        except (OSError, ssl.SSLError, ValueError) as e:
            what = "CA bundle" if self.ca and not self.cert else "TLS files"
            raise TlsError(f"the {what} could not be used: {e}") from None
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def proxies(self) -> Mapping[str, str]:
        """Scheme -> proxy URL, from the standard variables (lower case wins, as in urllib)."""
        env = self.environ if self.environ is not None else os.environ
        if env is os.environ:
            from urllib.request import getproxies_environment  # 20+ ms of imports: when used

            return getproxies_environment()
        found: dict[str, str] = {}
        for name, value in env.items():  # the same rule as urllib, over a mapping of ours
            low = name.lower()
            if value and low.endswith("_proxy") and (low == name or low not in env):
                found[low[:-6]] = value
        return found


def proxy_for(url: str, proxies: Mapping[str, str]) -> str | None:
    """The proxy a request to `url` goes through, or None (none set, or NO_PROXY names it)."""
    if not proxies:
        return None
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy:
        return None
    no_proxy = proxies.get("no", "")
    if no_proxy and _bypassed(parts.netloc, no_proxy):
        return None
    return proxy


def _bypassed(netloc: str, no_proxy: str) -> bool:
    # urllib's own NO_PROXY rule (suffixes, `*`, ports), given our list instead of os.environ's
    from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]

    return bool(proxy_bypass_environment(netloc, {"no": no_proxy}))


# --- bodies -----------------------------------------------------------------------------------


class ResponseTooLarge(Exception):
    pass


def too_large(target: str, status: int, limit: int) -> CallFailed:
    return CallFailed(
        "http",
        f"{target} answered HTTP {status} with a body over the {describe_size(limit)} limit; "
        "ask the service for less, or raise maxResponseSize",
        status,
    )


def unreadable(target: str, exc: BaseException) -> CallFailed:
    """A broken answer (not HTTP, a huge header, too many headers): the call's `connection`
    failure, worded the same whichever Caller met it."""
    text = getattr(exc, "message", None) if isinstance(getattr(exc, "message", None), str) else None
    text = text or str(exc) or type(exc).__name__
    return CallFailed(
        "connection", f"{target}: the answer could not be read ({type(exc).__name__}: {text})"
    )


async def read_limited(
    chunks: AsyncIterator[bytes], encoding: str, declared: str | None, limit: int
) -> bytes:
    """The decoded body from raw (still encoded) chunks, refusing more than `limit` bytes as it
    streams: a 255 KB gzip bomb or a 2 GB stream costs at most about `limit` of memory. gzip
    and deflate are inflated with a bound on every step; other encodings are kept as sent."""
    encoding = encoding.strip().lower()
    if not encoding and declared and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge
    parts: list[bytes] = []
    size = 0

    def keep(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if size > limit:
            raise ResponseTooLarge
        parts.append(data)

    if encoding in ("gzip", "x-gzip", "deflate"):
        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 32)  # gzip or zlib header
        async for raw in chunks:
            data = raw
            while data:
                keep(inflater.decompress(data, limit - size + 1))
                data = inflater.unconsumed_tail
        keep(inflater.flush())
    else:
        async for raw in chunks:
            keep(raw)
    return b"".join(parts)


_TEXT_TYPES = (
    "text/",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "+xml",
    "+json",
    "application/yaml",
)


def _charset(ctype: str) -> str:
    for param in ctype.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return "utf-8"


def decode_body(raw: bytes, ctype: str) -> Any:
    """A response body: parsed JSON, else text; None when empty; bytes that are not text (an
    image, a file) kept exactly as `{base64, contentType}`."""
    if not raw:
        return None
    if not ctype or "json" in ctype:
        try:
            return json.loads(raw)
        except ValueError:
            pass
    low = ctype.lower()
    if any(t in low for t in _TEXT_TYPES):
        try:
            return raw.decode(_charset(ctype))
        except (UnicodeDecodeError, LookupError):
            pass
    elif not ctype:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return {
        "base64": base64.b64encode(raw).decode("ascii"),
        "contentType": ctype or "application/octet-stream",
    }


# --- redirects --------------------------------------------------------------------------------


def _origin(url: str) -> tuple[str, str, int | None]:
    p = urlsplit(url)
    port = p.port or {"http": 80, "https": 443}.get(p.scheme)
    return p.scheme, (p.hostname or "").lower(), port


def _next_hop(request: CallRequest, response: CallResponse, hops: int) -> CallRequest | None:
    """The request a redirect asks for, None when the answer is not one to follow. Raises
    CallFailed when it may not be followed."""
    location = response.headers.get("location")
    if response.status not in REDIRECT_STATUSES or not location:
        return None
    target = request.target
    url = urljoin(request.url, location)
    if urlsplit(url).scheme not in ("http", "https"):
        raise CallFailed(
            "http",
            f"{target} answered HTTP {response.status} redirecting to {location}, which is "
            "not an http(s) URL; not followed",
            response.status,
        )
    if hops >= MAX_REDIRECTS:
        raise CallFailed(
            "http",
            f"{target}: more than {MAX_REDIRECTS} redirects (the last to {location}); "
            "call the final URL directly",
            response.status,
        )
    method, content, body = request.method, request.content, request.body
    headers = dict(request.headers)
    if response.status == 303 or (response.status in (301, 302) and method == "POST"):
        # what browsers, curl and httpx do: the next request is a GET without the body
        method = "GET" if method != "HEAD" else method
        content, body = None, None
        for k in [k for k in headers if k.lower() in ("content-type", "content-length")]:
            del headers[k]
    if _origin(url) != _origin(request.url):
        dropped = _CREDENTIAL_HEADERS | request.secret_headers
        headers = {k: v for k, v in headers.items() if k.lower() not in dropped}
        if content is not None and request.secret_body:
            raise CallFailed(
                "http",
                f"{target} answered HTTP {response.status} redirecting to {location}, another "
                "origin, and the body holds a secret: not sent there; call that URL directly",
                response.status,
            )
    return CallRequest(
        method,
        url,
        headers,
        content,
        body,
        target,
        request.timeout,
        request.run_id,
        follow_redirects=request.follow_redirects,
        max_response_bytes=request.max_response_bytes,
        secret_headers=request.secret_headers,
        secret_body=request.secret_body,
    )


def following(request: CallRequest, settings: HttpSettings) -> bool:
    """Whether this request follows redirects: the step says, else the environment."""
    wanted = request.follow_redirects
    return wanted if wanted is not None else settings.follow_redirects


async def follow(
    once: Callable[[CallRequest], Awaitable[CallResponse]],
    request: CallRequest,
    settings: HttpSettings,
) -> CallResponse:
    """One attempt: `once` for the request, then for each redirect when following them."""
    response = await once(request)
    if not following(request, settings):
        return response
    hops = 0
    while True:
        hop = _next_hop(request, response, hops)
        if hop is None:
            return response
        hops += 1
        request = hop
        response = await once(request)
