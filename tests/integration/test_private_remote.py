"""Private remotes against a real S3 server on loopback (moto): nothing in the bucket
holds the model's bytes or its variable names; a clone without a granted key is told
"no access"; a granted member clones and loads bit for bit; after a revocation the
revoked key cannot read what is pushed next; two members pushing the same model add its
bytes once; a flipped byte in an encrypted object is detected and named.

Each member is a config folder (XDG_CONFIG_HOME) holding its own identity."""

from __future__ import annotations

import re

import boto3
import numpy as np
import pytest

import jupyter_mvc
from jupyter_mvc.errors import MvcError, NoAccessError, RemoteError

pytestmark = pytest.mark.server
MiB = 1 << 20
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def members(tmp_path, monkeypatch):
    """be(name): switch to that member's identity (their own config folder)."""

    def be(name: str) -> None:
        folder = tmp_path / f"config-{name}"
        folder.mkdir(exist_ok=True)
        monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
        from jupyter_mvc.remote import remotes

        remotes._keyrings.clear()  # a new process, as far as unlocked keys go

    return be


def _client(s3):
    return boto3.client(
        "s3",
        endpoint_url=s3.endpoint,
        region_name=s3.env["AWS_REGION"] if "AWS_REGION" in s3.env else "us-east-1",
        aws_access_key_id=s3.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=s3.env["AWS_SECRET_ACCESS_KEY"],
    )


def _bucket_objects(s3, prefix: str) -> dict[str, bytes]:
    c = _client(s3)
    keys = [o["Key"] for o in c.list_objects_v2(Bucket=s3.bucket, Prefix=prefix).get("Contents", [])]
    return {k: c.get_object(Bucket=s3.bucket, Key=k)["Body"].read() for k in keys}


def _project(path):
    path.mkdir()
    jupyter_mvc.open_repo(path).close()
    return path


def test_the_provider_sees_neither_bytes_nor_names(s3, members, tmp_path):
    members("alice")
    a = _project(tmp_path / "alice")
    model = np.random.default_rng(0).standard_normal(MiB // 8)
    name = "secret_customer_embeddings"
    jupyter_mvc.commit({name: model, "learning_rate_schedule": [0.1, 0.01]}, "private model", path=a)
    jupyter_mvc.branch("confidential-experiment", path=a)
    jupyter_mvc.remote_add("origin", s3.url("private"), encrypt=True, path=a)
    jupyter_mvc.push(all=True, path=a)
    stored = _bucket_objects(s3, "private/")
    assert any(k.startswith("private/packs/") for k in stored) and any("/refs/" in k for k in stored)
    everything = b"".join(stored.values()) + "".join(stored).encode()
    raw = model.tobytes()
    for offset in range(0, len(raw) - 32, 4096):
        assert raw[offset : offset + 32] not in everything
    for word in (name, "learning_rate_schedule", "confidential-experiment", "private model"):
        assert word.encode() not in everything, word


def test_access_is_granted_per_member_and_revocation_covers_new_data(s3, members, tmp_path):
    members("alice")
    a = _project(tmp_path / "alice")
    first = np.arange(100_000, dtype=np.float64)
    jupyter_mvc.commit({"w": first}, "first", path=a)
    jupyter_mvc.remote_add("origin", s3.url("team"), encrypt=True, path=a)
    jupyter_mvc.push(path=a)

    members("bob")
    bob_key = jupyter_mvc.whoami()
    with pytest.raises(NoAccessError, match=re.escape(f"mvc access grant {bob_key}")):
        jupyter_mvc.clone(s3.url("team"), tmp_path / "bob")
    assert not (tmp_path / "bob").exists()

    members("alice")
    granted = jupyter_mvc.access_grant(bob_key, path=a)
    assert granted.public == bob_key
    assert {m.public for m in jupyter_mvc.access_list(path=a)} == {jupyter_mvc.whoami(), bob_key}

    members("bob")
    jupyter_mvc.clone(s3.url("team"), tmp_path / "bob")
    assert jupyter_mvc.load("HEAD", "w", path=tmp_path / "bob").tobytes() == first.tobytes()
    from jupyter_mvc.remote import access, crypto
    from jupyter_mvc.remote.transport import open_transport

    bobs_keys = access.unlock(open_transport(s3.url("team")))  # what bob holds: he could keep a copy

    members("alice")
    revoked, kept_passphrase = jupyter_mvc.access_revoke(bob_key, path=a)
    assert revoked.public == bob_key and kept_passphrase is False
    second = first * 2
    jupyter_mvc.commit({"w": second}, "after bob left", path=a)
    jupyter_mvc.push(path=a)

    members("bob")  # bob kept his clone and his (old) keys: new data stays closed to him
    with pytest.raises(MvcError) as closed:
        jupyter_mvc.fetch(path=tmp_path / "bob")
    assert isinstance(closed.value, (NoAccessError, RemoteError))
    assert jupyter_mvc.load("HEAD", "w", path=tmp_path / "bob").tobytes() == first.tobytes()  # what he had, he has
    # even with the keys he held, nothing pushed after the revocation opens
    old = crypto.Cipher(bobs_keys)
    new_packs = [k for k in _bucket_objects(s3, "team/packs/") if k.endswith(".idx")]
    opened = 0
    for key, body in _bucket_objects(s3, "team/packs/").items():
        if key.endswith(".idx"):
            try:
                old.open(key.removeprefix("team/"), body)
                opened += 1
            except crypto.DecryptError as exc:
                assert "newer key" in str(exc)
    assert opened == 1 and len(new_packs) == 2  # the pack index from before the revocation only


def test_two_members_pushing_the_same_model_add_its_bytes_once(s3, members, tmp_path):
    members("alice")
    a = _project(tmp_path / "alice")
    jupyter_mvc.commit({"base": 1}, "base", path=a)
    jupyter_mvc.remote_add("origin", s3.url("dedup"), encrypt=True, path=a)
    jupyter_mvc.push(path=a)
    members("bob")
    bob_key = jupyter_mvc.whoami()
    members("alice")
    jupyter_mvc.access_grant(bob_key, path=a)
    members("bob")
    b = tmp_path / "bob"
    jupyter_mvc.clone(s3.url("dedup"), b)
    model = np.random.default_rng(3).standard_normal(4 * MiB // 8)
    members("alice")
    jupyter_mvc.commit({"model": model}, "alice's copy", path=a)
    first = jupyter_mvc.push(path=a)
    assert first.bytes_uploaded >= model.nbytes
    members("bob")
    jupyter_mvc.pull(path=b)
    jupyter_mvc.branch("bob", path=b)
    jupyter_mvc.checkout("bob", path=b)
    jupyter_mvc.commit({"model": model.copy(), "note": "same weights"}, "bob's copy", path=b)
    second = jupyter_mvc.push("origin", "bob", path=b)
    assert second.bytes_uploaded < 64 * 1024, second  # the model's chunks were already there, sealed alike


def test_a_flipped_byte_is_detected_and_named(s3, members, tmp_path):
    members("alice")
    a = _project(tmp_path / "alice")
    jupyter_mvc.commit({"w": np.arange(50_000, dtype=np.float64)}, "w", path=a)
    jupyter_mvc.remote_add("origin", s3.url("tamper"), encrypt=True, path=a)
    jupyter_mvc.push(path=a)
    c = _client(s3)
    pack = next(k for k in _bucket_objects(s3, "tamper/packs/") if k.endswith(".pack"))
    body = bytearray(c.get_object(Bucket=s3.bucket, Key=pack)["Body"].read())
    body[len(body) // 2] ^= 1
    c.put_object(Bucket=s3.bucket, Key=pack, Body=bytes(body))
    b = tmp_path / "bob-same-member"
    jupyter_mvc.clone(s3.url("tamper"), b)
    with pytest.raises(MvcError, match="does not authenticate"):
        jupyter_mvc.load("HEAD", "w", path=b)
    ref = next(k for k in _bucket_objects(s3, "tamper/refs/"))
    body = bytearray(c.get_object(Bucket=s3.bucket, Key=ref)["Body"].read())
    body[-1] ^= 1
    c.put_object(Bucket=s3.bucket, Key=ref, Body=bytes(body))
    with pytest.raises(RemoteError, match=r"refs/[0-9a-f]+ does not authenticate"):
        jupyter_mvc.fetch(path=b)


def _pushed_with_passphrase(s3, members, tmp_path, prefix: str):
    """Alice's project, pushed to a private remote at `prefix` that the passphrase opens too."""
    members("alice")
    a = _project(tmp_path / "alice")
    jupyter_mvc.commit({"w": np.ones(10)}, "w", path=a)
    jupyter_mvc.remote_add("origin", s3.url(prefix), encrypt=True, passphrase=PASSPHRASE, path=a)
    jupyter_mvc.push(path=a)
    return a


def test_key_entries_nested_too_deep_to_parse_grant_nothing_and_crash_nothing(s3, members, tmp_path, monkeypatch):
    # json.loads raises RecursionError, not ValueError, on thousands of opening brackets
    a = _pushed_with_passphrase(s3, members, tmp_path, "deep")
    c = _client(s3)
    keys = list(_bucket_objects(s3, "deep/keys/"))
    assert any("/members/" in k for k in keys) and "deep/keys/passphrase.json" in keys
    for key in keys:
        c.put_object(Bucket=s3.bucket, Key=key, Body=b"[" * 5000)
    members("alice")  # a new process: her unlocked keys are not kept
    with pytest.raises(NoAccessError, match="not a member"):  # her own entry no longer reads
        jupyter_mvc.access_list(path=a)
    with pytest.raises(NoAccessError, match="not a member"):
        jupyter_mvc.clone(s3.url("deep"), tmp_path / "again")
    monkeypatch.setenv("MVC_PASSPHRASE", PASSPHRASE)
    with pytest.raises(NoAccessError, match="passphrase key is damaged"):
        jupyter_mvc.clone(s3.url("deep"), tmp_path / "again-ci")


def test_a_passphrase_opens_the_remote_for_ci(s3, members, tmp_path, monkeypatch):
    _pushed_with_passphrase(s3, members, tmp_path, "ci")
    members("ci")
    monkeypatch.setenv("MVC_PASSPHRASE", "wrong")
    with pytest.raises(NoAccessError, match="wrong passphrase"):
        jupyter_mvc.clone(s3.url("ci"), tmp_path / "ci")
    monkeypatch.setenv("MVC_PASSPHRASE", PASSPHRASE)
    jupyter_mvc.clone(s3.url("ci"), tmp_path / "ci")
    assert jupyter_mvc.load("HEAD", "w", path=tmp_path / "ci").tolist() == [1.0] * 10


def test_the_cli_adds_a_private_remote_and_manages_access(s3, members, tmp_path, capsys):
    from jupyter_mvc import cli

    members("alice")
    a = _project(tmp_path / "alice")
    jupyter_mvc.commit({"w": np.ones(3)}, "w", path=a)
    assert cli.main(["-C", str(a), "remote", "add", "origin", s3.url("cli"), "--encrypt"]) == 0
    assert "(private: encrypted here" in capsys.readouterr().out
    assert cli.main(["-C", str(a), "push"]) == 0
    capsys.readouterr()
    members("bob")
    assert cli.main(["access", "whoami"]) == 0
    bob_key = capsys.readouterr().out.strip()
    assert bob_key.startswith("mvc-x25519:")
    members("alice")
    assert cli.main(["-C", str(a), "access", "grant", bob_key]) == 0
    assert cli.main(["-C", str(a), "access", "list"]) == 0
    listed = capsys.readouterr().out
    assert bob_key in listed and listed.count("mvc-x25519:") == 2
    identity = (tmp_path / "config-alice" / "jupyter_mvc" / "identity.json").read_text()
    assert identity.split('"')[3] not in listed, "a private key is never printed"
    assert cli.main(["-C", str(a), "access", "revoke", bob_key]) == 0
    assert "cannot be taken back" in capsys.readouterr().out
