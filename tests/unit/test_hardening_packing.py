"""Reading a manifest strictly and loading one variable through the one wrapper
(`packing.load_entry`): a damaged entry fails alone, and whatever a variable's data raises
while loading, a BaseException included, becomes an error naming the variable and the
version. Real object store, real codecs; no Git needed."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from jupyter_mvc import codecs
from jupyter_mvc.errors import (
    CorruptObjectError,
    InvalidObjectIdError,
    ManifestError,
    MvcError,
    VariableLoadError,
)
from jupyter_mvc.objects import VariableEntry
from jupyter_mvc.repo import packing
from jupyter_mvc.store import ObjectStore

SHA = "f" * 40


@pytest.fixture
def store(tmp_path):
    s = ObjectStore(tmp_path / "mvc")
    yield s
    s.close()


def _good(store, name="x", obj=None):
    enc = codecs.encode(name, np.arange(4.0) if obj is None else obj)
    return packing.store_variables(store, {name: enc}, {})[0].variables[name]


def _raw(entry: VariableEntry) -> dict:
    return entry.to_json()


def test_a_manifest_that_is_none_at_all_is_refused_whole():
    for data in ([], "x", {"variables": {}}, {"variables": [], "schema": "1"}, {"variables": [], "schema": True}):
        with pytest.raises(ManifestError, match=SHA[:8]):
            packing.parse_manifest(data, SHA[:8])


def test_each_damaged_entry_fails_alone(store):
    good = _raw(_good(store, "good"))
    bad = {
        "size_str": dict(good, name="size_str", size="12"),
        "neg": dict(good, name="neg", size=-1),
        "summary_list": dict(good, name="summary_list", summary=[1, 2]),
        "no_type": {k: v for k, v in good.items() if k != "type"} | {"name": "no_type"},
        "bool_size": dict(good, name="bool_size", size=True),
        "stream_shape": dict(good, name="stream_shape", skeleton=dict(good["skeleton"], size=10**12)),
        "buffer_out": dict(good, name="buffer_out", buffers=[[5, 0, 1]]),  # no stream 5
        "buffer_neg": dict(good, name="buffer_neg", streams=[good["skeleton"]], buffers=[[-1, 0, 1]]),
        "buffer_type": dict(good, name="buffer_type", buffers=[["0", 0, 1]]),
    }
    manifest, damaged = packing.parse_manifest(
        {"schema": 1, "variables": [good, *bad.values(), "not an object", dict(good, name="")]}, SHA[:8]
    )
    assert set(manifest.variables) == {"good", "summary_list"}
    assert manifest.variables["summary_list"].summary == {}  # display only: shown as nothing
    assert set(damaged) == set(bad) - {"summary_list"} | {"<entry 10>", "<entry 11>"}
    assert "'size'" in damaged["size_str"] and "negative" in damaged["neg"] and "buffer" in damaged["buffer_out"]
    dup, _ = packing.parse_manifest({"variables": [good, good]}, SHA[:8])
    assert dup.variables == {}


def test_path_tricks_in_object_ids_refuse_the_whole_manifest(store):
    good = _raw(_good(store))
    crafted = dict(good, skeleton=dict(good["skeleton"], chunks=["../../../../etc/passwd"]))
    with pytest.raises(InvalidObjectIdError):
        packing.parse_manifest({"variables": [crafted]}, SHA[:8])


class Boom(BaseException):
    pass


def _raise_base_exception(kind: str):
    raise {"skip": pytest.skip.Exception, "boom": Boom, "memory": MemoryError}[kind](f"raised by {kind}")


def _reducing_entry(store, kind: str) -> VariableEntry:
    """An entry whose pickle, when loaded with this module's function allowed, raises."""
    payload = (
        b"\x80\x02c" + f"{__name__}\n_raise_base_exception\n".encode() + pickle.dumps((kind,), protocol=2)[2:-1] + b"R."
    )
    enc = codecs.Encoded("int", payload, [], {}, codecs.PICKLE)
    return packing.store_variables(store, {"victim": enc}, {})[0].variables["victim"]


@pytest.mark.parametrize(
    "kind,shown", [("skip", "Skipped: raised by skip"), ("boom", "Boom"), ("memory", "MemoryError")]
)
@pytest.mark.parametrize("trust", [True, False])
def test_any_exception_from_the_data_names_the_variable(store, kind, shown, trust):
    """trust=True is plain pickle (nothing below the wrapper catches); trust=False, the safe
    loader with the raising function allow-listed (the codec may name it first)."""
    entry = _reducing_entry(store, kind)
    try:
        packing.load_entry(store, SHA, entry, trust=trust, allow={f"{__name__}._raise_base_exception"})
    except MvcError as exc:
        err = exc
    except BaseException as exc:  # noqa: B036 - a leaked Skipped would otherwise skip this test, not fail it
        pytest.fail(f"{type(exc).__name__} escaped load_entry")
    else:
        pytest.fail("the variable loaded")
    if trust:
        assert isinstance(err, VariableLoadError)
    assert err.variable == "victim" and err.version == SHA[:8]  # type: ignore[attr-defined]
    message = str(err)
    assert "'victim'" in message and SHA[:8] in message and shown in message and "\n" not in message


def test_interrupts_are_not_swallowed(store, monkeypatch):
    entry = _good(store)

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(packing, "_read_and_decode", interrupted)
    with pytest.raises(KeyboardInterrupt):
        packing.load_entry(store, SHA, entry, trust=False, allow=set())


def test_errors_that_name_the_variable_pass_unchanged_and_names_are_checked(store):
    entry = _good(store)
    chunk = store.path(entry.skeleton.chunks[0])
    chunk.chmod(0o644)
    chunk.write_bytes(b"short")
    with pytest.raises(CorruptObjectError) as err:
        packing.load_entry(store, SHA, entry, trust=False, allow=set())
    assert err.value.variable == "x"
    odd = _good(store, "y", np.arange(5.0))
    for name in ("not an identifier", "class", "a\x1b[2J"):
        with pytest.raises(ManifestError, match="not a Python identifier"):
            packing.load_entry(store, SHA, VariableEntry(**{**odd.__dict__, "name": name}), trust=False, allow=set())
    assert packing.load_entry(store, SHA, odd, trust=False, allow=set()).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_hostile_text_in_a_reason_is_escaped():
    assert packing.reason(ValueError("\x1b]0;pwned\x07 " + "x" * 1000)).startswith("ValueError: \\x1b]0;pwned\\x07")
    assert len(packing.reason(ValueError("x" * 1000))) == 300
