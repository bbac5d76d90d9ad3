"""A real S3 server for tests: moto's, in this process, on loopback; a fresh bucket per
test; and NoConditionalProxy, which forwards to it but drops If-Match / If-None-Match, as
an S3 look-alike that ignores conditional writes would.

moto and boto3 (the `moto[server]` test extra) are imported only when a server starts, so
modules that import this one still load without them."""

from __future__ import annotations

import http.client
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

REGION = "us-east-1"
ACCESS_KEY = "mvc-test-access-key"
SECRET_KEY = "mvc-test-secret-key"


def s3_env(endpoint: str) -> dict[str, str]:
    """The AWS_* variables that point a client at `endpoint` with fake keys."""
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        # obstore refuses http:// endpoints unless told (open_transport also sets it itself).
        "AWS_ALLOW_HTTP": "true",
    }


@dataclass
class S3Bucket:
    endpoint: str
    bucket: str
    env: dict[str, str] = field(default_factory=dict)

    def url(self, prefix: str = "") -> str:
        return f"s3://{self.bucket}/{prefix}".rstrip("/")


class MotoServer:
    """`with MotoServer() as server: bucket = server.create_bucket()`."""

    def __init__(self) -> None:
        self.endpoint = ""
        self._server: Any = None

    def __enter__(self) -> MotoServer:
        from moto.server import ThreadedMotoServer

        # port=0: the OS picks a free one; get_host_and_port() reads the real one back.
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def create_bucket(self, name: str = "") -> S3Bucket:
        import boto3

        name = name or f"mvc-{uuid.uuid4().hex[:12]}"
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        client.create_bucket(Bucket=name)
        return S3Bucket(self.endpoint, name, s3_env(self.endpoint))

    @contextmanager
    def require_auth(self) -> Iterator[None]:
        """moto checks no credentials by default; inside this block it checks them all
        against its (empty) IAM, so every key is refused with 403."""
        self._reset_auth(b"0")
        try:
            yield
        finally:
            self._reset_auth(b"inf")

    def _reset_auth(self, count: bytes) -> None:
        # Not form-encoded (urllib's default), or moto's Flask reads an empty body.
        headers = {"Content-Type": "text/plain"}
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset-auth", data=count, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()


@contextmanager
def moto_s3(bucket: str = "") -> Iterator[S3Bucket]:
    """A moto server with one bucket, for a single test or script."""
    with MotoServer() as server:
        yield server.create_bucket(bucket)


_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
_DROPPED = {"if-match", "if-none-match"}


class NoConditionalProxy:
    """`with NoConditionalProxy(upstream_endpoint) as proxy:` then point AWS_ENDPOINT_URL at
    proxy.endpoint. Every request reaches the upstream without its conditional headers."""

    def __init__(self, upstream: str):
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.endpoint = ""
        self.dropped = 0  # how many conditional headers were thrown away

    def __enter__(self) -> NoConditionalProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _forward(self) -> None:
                body = self._body()
                headers = {}
                for k, v in self.headers.items():
                    if k.lower() in _DROPPED:
                        proxy.dropped += 1
                    elif k.lower() not in _HOP_BY_HOP:
                        headers[k] = v
                headers["Content-Length"] = str(len(body))
                conn = http.client.HTTPConnection(*proxy._upstream, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    self.send_response(resp.status, resp.reason)
                    for k, v in resp.getheaders():
                        if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length":
                            self.send_header(k, v)
                    length = resp.getheader("Content-Length") if self.command == "HEAD" else None
                    self.send_header("Content-Length", length or str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    conn.close()

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = bytearray()
                    while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
                        out += self.rfile.read(size)
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                        pass
                    return bytes(out)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.endpoint = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="no-conditional-proxy", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
