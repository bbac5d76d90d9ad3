"""Fixtures of the integration tier: a real S3 server (moto, loopback) for the remote tests."""

from __future__ import annotations

import os

import pytest

MOTO_REASON = "needs moto[server] and boto3 (pip install -e '.[test]')"


@pytest.fixture(scope="session")
def moto_server():
    """One moto S3 server for the session (it starts in ~0.5 s, but there is no need to pay it per test)."""
    pytest.importorskip("moto.server", reason=MOTO_REASON)
    pytest.importorskip("boto3", reason=MOTO_REASON)
    from tests.support.s3 import MotoServer

    with MotoServer() as server:
        yield server


@pytest.fixture
def s3(moto_server, monkeypatch):
    """A fresh, empty bucket, with the environment pointing at it (and no real AWS settings)."""
    bucket = moto_server.create_bucket()
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in bucket.env.items():
        monkeypatch.setenv(name, value)
    return bucket


@pytest.fixture
def no_conditional_proxy(moto_server):
    """A loopback proxy to the moto server that drops If-Match / If-None-Match: point
    AWS_ENDPOINT_URL at its `endpoint` to play a server that ignores conditional writes."""
    from tests.support.s3 import NoConditionalProxy

    with NoConditionalProxy(moto_server.endpoint) as proxy:
        yield proxy
