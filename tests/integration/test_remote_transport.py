"""The byte transport of remotes against real storage: a shared folder, and S3 served by
moto on loopback (no mocks). Every behaviour the layers above rely on is checked on both:
listing, ranged reads, multipart uploads, create-only and compare-and-swap writes, the
probe that catches servers ignoring them, and errors that say how to fix them."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from jupyter_mvc.errors import RemoteError, RemoteObjectMissingError
from jupyter_mvc.remote.transport import Listed, Transport, open_transport, probe_conditional_writes
from tests.support.s3 import SECRET_KEY

MiB = 1024 * 1024


@pytest.fixture(params=["folder", pytest.param("s3", marks=pytest.mark.server)])
def remote(request, tmp_path) -> Transport:
    if request.param == "folder":
        return open_transport((tmp_path / "remote").as_uri())
    return open_transport(request.getfixturevalue("s3").url("team/project"))


def test_put_get_list(remote):
    before = time.time()
    remote.put("a/1", b"one")
    remote.put("a/b/2", b"two two!")
    remote.put("ab/3", b"3")
    remote.put("z", b"")
    remote.put("a/1", b"uno")  # overwrite
    assert remote.get("a/1") == b"uno"
    assert remote.get("z") == b""

    everything = remote.list("")
    assert [(o.key, o.size) for o in everything] == [("a/1", 3), ("a/b/2", 8), ("ab/3", 1), ("z", 0)]
    assert all(isinstance(o, Listed) and before - 5 <= o.modified <= time.time() + 5 for o in everything)
    # A prefix is a folder: "a" holds a/1 and a/b/2, not ab/3.
    assert [o.key for o in remote.list("a")] == ["a/1", "a/b/2"]
    assert [o.key for o in remote.list("a/")] == ["a/1", "a/b/2"]
    assert [o.key for o in remote.list("a/b")] == ["a/b/2"]
    assert remote.list("nothing/here") == []


def test_get_ranges_returns_exact_slices(remote):
    data = os.urandom(300_000)
    remote.put("pack", data)
    ranges = [(0, 10), (1000, 5000), (6000, 1), (299_990, 10), (42, 0), (150_000, 100_000)]
    assert remote.get_ranges("pack", ranges) == [data[s : s + n] for s, n in ranges]
    assert remote.get_ranges("pack", []) == []
    with pytest.raises(RemoteError, match="past its end"):
        remote.get_ranges("pack", [(299_995, 10)])
    with pytest.raises(RemoteError, match="past its end"):
        remote.get_ranges("pack", [(400_000, 10)])
    with pytest.raises(RemoteObjectMissingError):
        remote.get_ranges("no/pack", [(0, 1)])


def test_put_file_large_round_trips_with_progress(remote, tmp_path):
    data = os.urandom(25 * MiB + 12345)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    seen: list[int] = []
    remote.put_file("packs/big", src, progress=seen.append)
    assert sum(seen) == len(data)
    assert len(seen) > 1 and all(n > 0 for n in seen)  # reported as it went, not once at the end
    read = remote.read_versioned("packs/big")
    assert read is not None and read[0] == data
    if remote.url.startswith("s3://"):
        assert read[1].strip('"').endswith("-6")  # S3's multipart ETag: 6 parts of 5 MiB

    small = tmp_path / "small.bin"
    small.write_bytes(b"x" * 1000)
    seen.clear()
    remote.put_file("packs/small", small, progress=seen.append)
    assert sum(seen) == 1000 and remote.get("packs/small") == b"x" * 1000
    remote.put_file("packs/quiet", small)  # no progress callback
    assert remote.get("packs/quiet") == b"x" * 1000


def test_put_if_absent(remote):
    assert remote.put_if_absent("objects/ab", b"first") is True
    assert remote.put_if_absent("objects/ab", b"second") is False
    assert remote.get("objects/ab") == b"first"


def test_put_if_version_is_compare_and_swap(remote):
    assert remote.read_versioned("refs/main") is None
    assert remote.put_if_version("refs/main", b"v1", "no-such-tag") is False  # absent
    remote.put("refs/main", b"v1")
    data, tag = remote.read_versioned("refs/main")
    assert data == b"v1"
    assert remote.put_if_version("refs/main", b"v2", tag) is True
    assert remote.put_if_version("refs/main", b"v3", tag) is False  # stale tag
    assert remote.get("refs/main") == b"v2"
    data2, tag2 = remote.read_versioned("refs/main")
    assert data2 == b"v2" and tag2 != tag
    remote.delete("refs/main")
    assert remote.put_if_version("refs/main", b"v4", tag2) is False  # gone
    assert remote.read_versioned("refs/main") is None


def test_racing_put_if_version_has_one_winner(remote):
    def push(n: int, tag: str, start: threading.Barrier, results: dict[int, bool]) -> None:
        start.wait()
        results[n] = remote.put_if_version("refs/race", b"winner %d" % n, tag)

    for round in range(10):
        remote.put("refs/race", b"base %d" % round)
        _, tag = remote.read_versioned("refs/race")
        start, results = threading.Barrier(2), {}
        threads = [threading.Thread(target=push, args=(n, tag, start, results)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results.values()) == [False, True], f"round {round}: {results}"
        winner = next(n for n, ok in results.items() if ok)
        assert remote.get("refs/race") == b"winner %d" % winner


def test_delete_and_missing(remote):
    remote.put("tmp/x", b"x")
    remote.delete("tmp/x")
    remote.delete("tmp/x")  # absent is fine
    remote.delete("never/was")
    with pytest.raises(RemoteObjectMissingError) as err:
        remote.get("tmp/x")
    assert err.value.key == "tmp/x" and isinstance(err.value, FileNotFoundError)
    assert remote.read_versioned("tmp/x") is None
    assert remote.list("tmp") == []


def test_probe_finds_conditional_writes_and_cleans_up(remote):
    assert probe_conditional_writes(remote) is True
    assert remote.list("probe") == []


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "..", "a\\b", "a\0b", "a//b", "./a", "a/."])
def test_bad_keys_are_refused(remote, key):
    for call in (lambda: remote.put(key, b"x"), lambda: remote.get(key), lambda: remote.put_if_absent(key, b"x")):
        with pytest.raises(RemoteError, match="bad object key"):
            call()


# --- URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "fix"),
    [
        ("ftp://host/x", "s3://bucket/prefix"),
        ("http://example.com/bucket", "gs://bucket/prefix"),
        ("relative/folder", "file:///"),
        ("/abs/folder", "file:///abs/folder"),
        ("file:relative", "file:///"),
        ("file://relative/folder", "file:///"),
        ("s3://", "s3://bucket/prefix"),
        ("s3:///prefix", "s3://bucket/prefix"),
    ],
)
def test_bad_urls_say_how_to_write_them(url, fix):
    with pytest.raises(RemoteError) as err:
        open_transport(url)
    assert fix in str(err.value) and err.value.fix


def test_credentials_in_the_url_are_refused_and_not_echoed():
    with pytest.raises(RemoteError, match="carries credentials") as err:
        open_transport("s3://AKIAEXAMPLE:s3cr3t@bucket/x")
    assert "s3cr3t" not in str(err.value) and "AKIAEXAMPLE" not in str(err.value)


def test_azure_without_account_names_the_variable(monkeypatch):
    for name in list(os.environ):
        if name.startswith("AZURE_"):
            monkeypatch.delenv(name)
    with pytest.raises(RemoteError, match="AZURE_STORAGE_ACCOUNT_NAME"):
        open_transport("az://container/prefix").list("")


# --- shared folder specifics -------------------------------------------------------------


def test_folder_hides_its_locks_and_temp_files(tmp_path):
    t = open_transport((tmp_path / "remote").as_uri())
    t.put("refs/main", b"1")
    _, tag = t.read_versioned("refs/main")
    assert t.put_if_version("refs/main", b"2", tag)
    assert (tmp_path / "remote" / ".locks").is_dir()
    (tmp_path / "remote" / "refs" / ".main.0123.tmp").write_bytes(b"half")  # a writer that died
    assert [o.key for o in t.list("")] == ["refs/main"]
    with pytest.raises(RemoteError, match="starts with '.'"):
        t.put("refs/.hidden", b"x")


def test_folder_on_a_missing_mount_is_not_created(tmp_path):
    t = open_transport((tmp_path / "not-mounted" / "team").as_uri())
    assert t.list("") == []
    with pytest.raises(RemoteError, match="mount the share"):
        t.put("a", b"x")
    assert not (tmp_path / "not-mounted").exists()


def test_folder_key_that_is_also_a_folder(tmp_path):
    t = open_transport((tmp_path / "remote").as_uri())
    t.put("a", b"x")
    with pytest.raises(RemoteError, match="both an object and a folder"):
        t.put("a/b", b"y")
    with pytest.raises(RemoteObjectMissingError):
        t.get("a/b")


def test_folder_writes_are_atomic_files(tmp_path):
    t = open_transport((tmp_path / "remote").as_uri())
    t.put("x", b"1")
    assert Path(tmp_path / "remote" / "x").read_bytes() == b"1"
    assert [p.name for p in (tmp_path / "remote").iterdir() if p.name != ".locks"] == ["x"]


# --- S3 specifics (moto) -----------------------------------------------------------------

server = pytest.mark.server


@server
def test_probe_detects_a_server_that_ignores_conditions(s3, no_conditional_proxy, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", no_conditional_proxy.endpoint)
    t = open_transport(s3.url("through/proxy"))
    t.put("plain", b"works")  # the proxy itself forwards fine
    assert t.get("plain") == b"works"
    assert probe_conditional_writes(t) is False
    assert no_conditional_proxy.dropped >= 2
    assert t.list("probe") == []


@server
def test_proxy_forwards_multipart_uploads(s3, no_conditional_proxy, monkeypatch, tmp_path):
    """The proxy is a faithful S3 apart from the conditions (so the probe's False is theirs)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", no_conditional_proxy.endpoint)
    t = open_transport(s3.url("through/proxy"))
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(11 * MiB))
    t.put_file("big", src)
    assert t.get_ranges("big", [(0, 100), (11 * MiB - 100, 100)]) == [
        src.read_bytes()[:100],
        src.read_bytes()[-100:],
    ]
    assert [o.size for o in t.list("")] == [11 * MiB]


@server
def test_missing_bucket_is_named(s3):
    t = open_transport(f"s3://no-such-bucket-{s3.bucket}/p")
    for call in (lambda: t.get("x"), lambda: t.put("x", b"1"), lambda: t.list(""), lambda: t.put_if_absent("x", b"1")):
        with pytest.raises(RemoteError, match="does not exist") as err:
            call()
        assert not isinstance(err.value, RemoteObjectMissingError)
        assert "Create it" in str(err.value)


@server
def test_wrong_credentials_are_refused_clearly(s3, moto_server):
    t = open_transport(s3.url("p"))
    with moto_server.require_auth():
        for call in (lambda: t.get("x"), lambda: t.put("x", b"1"), lambda: t.list("")):
            with pytest.raises(RemoteError, match="access denied") as err:
                call()
            assert "AWS_ACCESS_KEY_ID" in str(err.value)
            assert SECRET_KEY not in str(err.value)


@server
def test_missing_credentials_fail_at_once(s3, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(RemoteError, match="AWS_ACCESS_KEY_ID") as err:
        open_transport(s3.url("p"))  # not a metadata-service lookup against a loopback endpoint
    assert "no credentials" in str(err.value)


@server
def test_missing_secret_names_the_variables(s3, monkeypatch):
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(RemoteError, match="AWS_SECRET_ACCESS_KEY"):
        open_transport(s3.url("p"))


@server
def test_unreachable_endpoint_names_the_variable(s3, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    t = open_transport(s3.url("p"))
    with pytest.raises(RemoteError, match="cannot connect") as err:
        t.get("x")
    assert "AWS_ENDPOINT_URL" in str(err.value)


@server
def test_prefix_isolates_remotes(s3):
    a = open_transport(s3.url("team-a"))
    b = open_transport(s3.url("team-b"))
    a.put("refs/main", b"a")
    assert b.list("") == [] and b.read_versioned("refs/main") is None
    whole = open_transport(s3.url())
    assert [o.key for o in whole.list("")] == ["team-a/refs/main"]


def test_no_credentials_off_aws_fail_fast(monkeypatch):
    """No keys and no custom endpoint: obstore asks the EC2 metadata service. Off EC2 that
    must end in a few bounded retries with a message naming the variables, not a hang."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_METADATA_ENDPOINT", f"http://127.0.0.1:{port}")  # stands in for 169.254.169.254
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    t = open_transport("s3://some-bucket/p")
    with pytest.raises(RemoteError, match="no usable credentials") as err:
        t.get("x")
    assert "AWS_ACCESS_KEY_ID" in str(err.value)
