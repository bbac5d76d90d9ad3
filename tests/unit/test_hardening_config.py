"""Trust decisions live in the user's own config, keyed by repository, never in the store
a remote or a copied repository delivers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from jupyter_mvc.repo import config as config_module
from jupyter_mvc.repo.config import Config


@pytest.fixture
def gitdir(tmp_path) -> Path:
    d = tmp_path / "project" / ".git"
    (d / "mvc").mkdir(parents=True)
    return d


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(config_module, "_warned", set())


def test_trust_goes_to_the_users_config_keyed_by_repository(gitdir, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    cfg = Config(gitdir / "mvc", gitdir)
    cfg.trust("argparse.Namespace")
    path = Path.home() / ".config" / "jupyter_mvc" / "trust.json"
    assert json.loads(path.read_text()) == {str(gitdir.resolve()): ["argparse.Namespace"]}
    assert cfg.trusted_globals() == {"argparse.Namespace"}
    assert not (gitdir / "mvc" / "config.json").exists()  # nothing in the repository
    assert path.stat().st_mode & 0o077 == 0


def test_xdg_config_home_is_used_when_absolute(gitdir, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    Config(gitdir / "mvc", gitdir).trust("argparse.Namespace")
    assert (tmp_path / "xdg" / "jupyter_mvc" / "trust.json").exists()
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")  # not absolute: ignored, per the spec
    assert config_module.user_config_dir() == Path.home() / ".config" / "jupyter_mvc"


def test_a_copied_store_brings_no_trust(gitdir, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    Config(gitdir / "mvc", gitdir).trust("argparse.Namespace")
    # A repository that arrives with an allow-list inside its store (a copy, an archive):
    copy = tmp_path / "copy" / ".git"
    shutil.copytree(gitdir, copy)
    (copy / "mvc" / "config.json").write_text(json.dumps({"trusted_globals": ["os.system", "builtins.eval"]}))
    copied = Config(copy / "mvc", copy)
    assert copied.trusted_globals() == set()  # neither the store's list nor the original's
    err = capsys.readouterr().err
    assert "ignoring 'trusted_globals'" in err and str(copy / "mvc" / "config.json") in err
    copied.trusted_globals()
    assert capsys.readouterr().err == ""  # said once
    assert Config(gitdir / "mvc", gitdir).trusted_globals() == {"argparse.Namespace"}


def test_damaged_trust_file_or_store_config_reads_as_nothing(gitdir, capsys, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    cfg = Config(gitdir / "mvc", gitdir)
    cfg.trust_path.parent.mkdir(parents=True)
    cfg.trust_path.write_text("{not json")
    (gitdir / "mvc" / "config.json").write_text("[" * 100000)
    assert cfg.trusted_globals() == set() and cfg.read() == {}
    assert "does not read" in capsys.readouterr().err
    cfg.trust_path.write_text(json.dumps({cfg.key: ["ok.Name", 5, "no dots", "os.system; rm"]}))
    assert cfg.trusted_globals() == {"ok.Name"}
