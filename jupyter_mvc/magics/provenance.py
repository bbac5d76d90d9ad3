"""Where the notebook behind this kernel lives, and which cells this kernel ran.

The path comes from `JPY_SESSION_NAME` (set by jupyter_server), `__session__` (set by
ipykernel), and, when those are missing or stale after a rename, from the running
servers' `/api/sessions` matched by this kernel's id. The saved .ipynb holds only what the
front-end saved; the code that really built the in-memory state is in the shell's
input history, so both are recorded.
"""

from __future__ import annotations

import glob
import json
import os
import re
import urllib.request
from typing import Any

_SERVER_TIMEOUT_S = 1.0


def notebook_path(shell: Any) -> str | None:
    """Absolute path of the notebook this kernel runs, or None (terminal, nbclient...)."""
    candidates = [os.environ.get("JPY_SESSION_NAME"), shell.user_ns.get("__session__")]
    for c in candidates:
        path = _existing_notebook(c)
        if path:
            return path
    kernel_id = _kernel_id()
    return _ask_servers(kernel_id) if kernel_id else None


def _existing_notebook(candidate: object) -> str | None:
    if not isinstance(candidate, str) or not candidate.endswith(".ipynb"):
        return None
    for path in (candidate, os.path.join(os.getcwd(), os.path.basename(candidate))):
        if os.path.isfile(path):
            return os.path.abspath(path)
    return None


def _kernel_id() -> str | None:
    try:
        from ipykernel.connect import get_connection_file  # only inside a kernel

        name = os.path.basename(get_connection_file())
    except Exception:
        return None
    m = re.match(r"kernel-(.+)\.json\Z", name)
    return m[1] if m else None


def _ask_servers(kernel_id: str) -> str | None:
    """The notebook path of `kernel_id` according to a running Jupyter server, if any."""
    try:
        from jupyter_core.paths import jupyter_runtime_dir

        runtime = jupyter_runtime_dir()
    except Exception:
        return None
    for info_file in glob.glob(os.path.join(runtime, "jpserver-*.json")):
        try:
            with open(info_file) as f:
                info = json.load(f)
            request = urllib.request.Request(
                info["url"].rstrip("/") + "/api/sessions", headers={"Authorization": f"token {info.get('token', '')}"}
            )
            with urllib.request.urlopen(request, timeout=_SERVER_TIMEOUT_S) as response:
                sessions = json.load(response)
        except Exception:  # a stale runtime file or a server that is shutting down
            continue
        for session in sessions:
            if (session.get("kernel") or {}).get("id") == kernel_id and session.get("path"):
                path = os.path.join(info.get("root_dir", ""), session["path"])
                if os.path.isfile(path):
                    return os.path.abspath(path)
    return None


def executed_cells(shell: Any) -> str:
    """The cells run in this kernel since it started, as a Python file with `# In[n]:`
    markers (magics as typed)."""
    inputs = list(getattr(shell.history_manager, "input_hist_raw", []) or shell.user_ns.get("In", []))
    parts = ["# Cells executed in this kernel, oldest first (recorded by jupyter_mvc).\n"]
    for n, source in enumerate(inputs):
        if n == 0 or not source.strip():
            continue  # In[0] is always empty
        parts.append(f"\n# In[{n}]:\n{source.rstrip()}\n")
    return "".join(parts)
