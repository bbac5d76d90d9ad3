"""Start a real Jupyter server (or JupyterLab) on loopback for a test, with temporary
config, runtime and settings folders, so nothing from the user's setup leaks in."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

READY_WITHIN_S = 90  # a slow CI machine; typical start is 4-9 s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(root: Path, work: Path, *, lab: bool = False, token: str = ""):
    """Yield the base URL of a server serving `root` with the jupyter_mvc server extension
    enabled; its log goes to `work/server.log`."""
    work.mkdir(parents=True, exist_ok=True)
    config = work / "config"
    config.mkdir(exist_ok=True)
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_mvc.server": True}}})
    )
    settings = work / "settings"
    # The news/update toast would cover the sidebar in screenshots.
    notif = settings / "@jupyterlab" / "apputils-extension"
    notif.mkdir(parents=True, exist_ok=True)
    (notif / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab" if lab else "jupyter_server",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        f"--IdentityProvider.token={token}",
    ]
    if lab:
        cmd += [
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={work / 'workspaces'}",
            "--LabApp.expose_app_in_browser=True",
            # Notebook 7 (/notebooks/...) is served by the same server when installed.
            "--JupyterNotebookApp.expose_app_in_browser=True",
        ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(work / "server.log", "wb")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        _wait_ready(proc, base, token, work / "server.log")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_ready(proc, base: str, token: str, log: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    headers = {"Authorization": f"token {token}"} if token else {}
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Jupyter server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(urllib.request.Request(base + "api/status", headers=headers), timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.3)
    raise RuntimeError(f"the Jupyter server did not answer within {READY_WITHIN_S} s:\n{log.read_text()[-3000:]}")


API_TOKEN = "test-token-for-the-rest-api"  # the token of the `rest_server` fixture


def call_api(base, endpoint, params=None, *, body=None, headers=None, auth=True, timeout=60, token=API_TOKEN):
    """(status, parsed JSON body) of one request to the extension's REST API; 4xx/5xx
    replies are returned, not raised, and must never carry a Python traceback."""
    query = "?" + "&".join(f"{k}={urllib.request.quote(str(v))}" for k, v in (params or {}).items())
    hdrs = dict(headers or {})
    if auth:
        hdrs["Authorization"] = f"token {token}"
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(
        base + "jupyter-mvc/" + endpoint + query, data=data, headers=hdrs, method="POST" if body is not None else "GET"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        text = err.read().decode()
        assert "Traceback" not in text, text
        return err.code, json.loads(text)
