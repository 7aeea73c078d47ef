"""Real TLS and a real forwarding proxy on 127.0.0.1 for the live tests: a CA, a server and a
client certificate made with the `openssl` command, an HTTPS server that may require a client
certificate, and an HTTP proxy (absolute-URI requests and CONNECT tunnels) that records what it
carried."""

from __future__ import annotations

import select
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.engine.http_support import LoopbackServer, RecordingServer


@dataclass
class Pki:
    ca: Path  # the CA's certificate (PEM)
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    client_both: Path  # certificate and key in one file


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(folder: Path) -> Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, signed by the CA."""
    d = folder
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=Switchboard Test CA", cwd=d,
    )  # fmt: skip
    (d / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    (d / "client.ext").write_text("basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    for name in ("server", "client"):
        _openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", f"/CN=switchboard-{name}", cwd=d,
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext",
            cwd=d,
        )  # fmt: skip
    both = d / "client-both.pem"
    both.write_text((d / "client.pem").read_text() + (d / "client.key").read_text())
    return Pki(
        d / "ca.pem", d / "server.pem", d / "server.key", d / "client.pem", d / "client.key", both
    )


class TlsServer(RecordingServer):
    """A RecordingServer over TLS; with `client_ca` it requires a client certificate."""

    def __init__(self, pki: Pki, *, client_ca: Path | None = None) -> None:
        super().__init__()
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(pki.server_cert, pki.server_key)
        if client_ca is not None:
            ctx.load_verify_locations(client_ca)
            ctx.verify_mode = ssl.CERT_REQUIRED
        self.ctx = ctx
        self.peers: list[Any] = []

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        # the handshake happens on the handler's thread (a failed one must not stop the server)
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return
        self.peers.append(request.getpeercert())
        super().finish_request(request, client_address)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(BaseHTTPRequestHandler):
    server: ProxyServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _forward(self) -> None:
        """An absolute-URI request (`GET http://host:port/path`): send it on, answer back."""
        self.server.carried.append(f"{self.command} {self.path}")
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = target.path + (f"?{target.query}" if target.query else "")
        head = [f"{self.command} {path} HTTP/1.1"]
        head += [
            f"{k}: {v}"
            for k, v in self.headers.items()
            if k.lower() not in ("proxy-connection", "connection", "keep-alive")
        ]
        head.append("Connection: close")
        with socket.create_connection((target.hostname, target.port or 80), timeout=10) as up:
            up.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            answer = b""
            while chunk := up.recv(65536):
                answer += chunk
        self.wfile.write(answer)
        self.close_connection = True

    def do_CONNECT(self) -> None:
        """A tunnel (`CONNECT host:port`) for https: bytes both ways until either side ends."""
        self.server.carried.append(f"CONNECT {self.path}")
        host, _, port = self.path.rpartition(":")
        up = socket.create_connection((host, int(port)), timeout=10)
        self.send_response(200, "Connection established")
        self.end_headers()
        conns = [self.connection, up]
        try:
            while True:
                ready, _, _ = select.select(conns, [], [], 10)
                if not ready:
                    return
                for r in ready:
                    data = r.recv(65536)
                    if not data:
                        return
                    (up if r is self.connection else self.connection).sendall(data)
        finally:
            up.close()
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward


class ProxyServer(LoopbackServer):
    """A forwarding HTTP proxy on a free port of 127.0.0.1; `carried` lists what went through."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.carried: list[str] = []
        self.lock = threading.Lock()
