"""TLS per environment (a CA bundle, a client certificate, `verify: false`, SSL_CERT_FILE) and
the standard proxy variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY), against a real HTTPS server
and a real forwarding proxy on 127.0.0.1 — with each live Caller."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, check_file
from engine.jobs.environments import SetupError
from engine.jobs.setup import prepare
from engine.runtime.wire import HttpSettings, proxy_for
from tests.engine.http_support import RecordingServer, http_server, live_caller, serving
from tests.engine.test_run_support import arun, workflow
from tests.engine.tls_support import Pki, ProxyServer, TlsServer, make_pki

__all__ = ["http_server", "live_caller"]
pytestmark = pytest.mark.usefixtures("live_caller")

FLOW = """
version: 1
name: tls
steps:
  - {id: call, service: Api, action: ping, method: GET}
"""
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy or CA variables from the machine running the tests."""
    for name in (*_PROXY_VARS, "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


@pytest.fixture
def tls_server(pki: Pki) -> Iterator[TlsServer]:
    with serving(TlsServer(pki)) as srv:
        yield srv


def _run(url: str, http: HttpSettings | None = None) -> Any:
    async def go() -> Any:
        async with Engine(services={"Api": url}, http=http) as e:
            return await e.run(workflow(FLOW))

    return arun(go())


def test_a_private_ca_is_trusted_only_when_named(
    clean_env: pytest.MonkeyPatch, pki: Pki, tls_server: TlsServer
) -> None:
    refused = _run(tls_server.url)
    error = refused.steps["call"].error
    assert error["type"] == "connection" and "certificate" in error["message"].lower()
    ok = _run(tls_server.url, HttpSettings(ca=str(pki.ca)))
    assert ok.status == "succeeded", ok.error
    assert ok.output["call"]["path"] == "/ping"


def test_verify_false_accepts_any_certificate(
    clean_env: pytest.MonkeyPatch, tls_server: TlsServer
) -> None:
    assert _run(tls_server.url, HttpSettings(verify=False)).status == "succeeded"


def test_ssl_cert_file_is_honoured(
    clean_env: pytest.MonkeyPatch, pki: Pki, tls_server: TlsServer
) -> None:
    clean_env.setenv("SSL_CERT_FILE", str(pki.ca))
    assert _run(tls_server.url).status == "succeeded"


def test_a_client_certificate_is_presented(clean_env: pytest.MonkeyPatch, pki: Pki) -> None:
    with serving(TlsServer(pki, client_ca=pki.ca)) as srv:
        without = _run(srv.url, HttpSettings(ca=str(pki.ca)))
        assert without.steps["call"].error["type"] == "connection"
        separate = HttpSettings(ca=str(pki.ca), cert=str(pki.client_cert), key=str(pki.client_key))
        assert _run(srv.url, separate).status == "succeeded"
        one_file = HttpSettings(ca=str(pki.ca), cert=str(pki.client_both))
        assert _run(srv.url, one_file).status == "succeeded"
        subjects = [dict(x[0] for x in p["subject"]) for p in srv.peers if p]
    assert subjects and all(s["commonName"] == "switchboard-client" for s in subjects)


def _folder(tmp: Path, tls: str, url: str) -> Path:
    (tmp / "environments.yaml").write_text(
        textwrap.dedent(
            f"""
            version: 1
            environments:
              secure:
                services: {{Api: '{url}'}}
                tls: {tls}
            """
        )
    )
    path = tmp / "flow.yaml"
    path.write_text(FLOW)
    return path


def test_an_environment_names_its_tls_files_relative_to_itself(
    clean_env: pytest.MonkeyPatch, pki: Pki, tmp_path: Path
) -> None:
    (tmp_path / "certs").mkdir()
    for src in (pki.ca, pki.client_cert, pki.client_key):
        (tmp_path / "certs" / src.name).write_bytes(src.read_bytes())
    tls = "{ca: certs/ca.pem, cert: certs/client.pem, key: certs/client.key}"
    with serving(TlsServer(pki, client_ca=pki.ca)) as srv:
        path = _folder(tmp_path, tls, srv.url)

        async def go() -> Any:
            setup = prepare(workflow_path=path, env="secure")
            try:
                return await setup.run()
            finally:
                await setup.finish()

        assert arun(go()).status == "succeeded"

    # a file that is not there: validate says so at its line, a run is a setup error
    path = _folder(tmp_path, "{ca: certs/nothere.pem}", "https://127.0.0.1:9")
    problems = check_file(tmp_path / "environments.yaml").problems
    assert any("TLS file 'certs/nothere.pem' does not exist" in p.message for p in problems)
    with pytest.raises(SetupError, match="environment 'secure': tls: .*fix its `tls` files"):
        prepare(workflow_path=path, env="secure")
    # and one outside the folder is refused like any other file an environment names
    _folder(tmp_path, "{ca: ../../etc/ssl/cert.pem}", "https://127.0.0.1:9")
    problems = check_file(tmp_path / "environments.yaml").problems
    assert any("outside the folder" in p.message for p in problems)


def test_http_proxy_carries_calls_unless_no_proxy_names_the_host(
    clean_env: pytest.MonkeyPatch, http_server: RecordingServer
) -> None:
    with serving(ProxyServer()) as proxy:
        clean_env.setenv("HTTP_PROXY", proxy.url)
        result = _run(http_server.url)
        assert result.status == "succeeded", result.error
        assert proxy.carried == [f"GET {http_server.url}/ping"]
        assert len(http_server.seen) == 1

        clean_env.setenv("NO_PROXY", "127.0.0.1")
        assert _run(http_server.url).status == "succeeded"
        assert len(proxy.carried) == 1 and len(http_server.seen) == 2


def test_https_proxy_tunnels_tls_calls(
    clean_env: pytest.MonkeyPatch, pki: Pki, tls_server: TlsServer
) -> None:
    with serving(ProxyServer()) as proxy:
        clean_env.setenv("HTTPS_PROXY", proxy.url)
        result = _run(tls_server.url, HttpSettings(ca=str(pki.ca)))
        assert result.status == "succeeded", result.error
        host = tls_server.url.removeprefix("https://")
        assert proxy.carried == [f"CONNECT {host}"]


def test_proxy_variables_follow_curls_rules() -> None:
    env = {
        "HTTP_PROXY": "http://upper:1",
        "http_proxy": "http://lower:1",  # lower case wins, as in urllib and curl
        "HTTPS_PROXY": "http://tls:2",
        "NO_PROXY": "internal.example, .corp, 10.0.0.1:8080",
    }
    proxies = HttpSettings(environ=env).proxies()
    assert proxy_for("http://api.example/x", proxies) == "http://lower:1"
    assert proxy_for("https://api.example/x", proxies) == "http://tls:2"
    for direct in ("http://internal.example/x", "https://a.corp/x", "http://10.0.0.1:8080/"):
        assert proxy_for(direct, proxies) is None, direct
    assert proxy_for("http://10.0.0.1:9090/", proxies) == "http://lower:1"
    assert proxy_for("http://api.example/", HttpSettings(environ={}).proxies()) is None
    everything = HttpSettings(environ={"ALL_PROXY": "http://all:3", "NO_PROXY": "*"}).proxies()
    assert proxy_for("http://api.example/", everything) is None
