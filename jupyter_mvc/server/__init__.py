"""Jupyter server extension: JSON handlers under `<base_url>/jupyter-mvc/` that the
JupyterLab "Versions" sidebar reads. The only place jupyter_server is imported."""

from __future__ import annotations


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "jupyter_mvc.server"}]


def _load_jupyter_server_extension(serverapp) -> None:
    from .handlers import setup_handlers

    setup_handlers(serverapp.web_app, serverapp.root_dir)
    serverapp.log.info("jupyter_mvc server extension loaded: %s/jupyter-mvc/", serverapp.base_url.rstrip("/"))
