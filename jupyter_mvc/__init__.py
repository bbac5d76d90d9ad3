"""jupyter_mvc: version control for the models and state that live inside notebooks.

`import jupyter_mvc` stays light: the API loads on first use.

    import jupyter_mvc
    jupyter_mvc.commit({"model": model}, "baseline", metrics={"acc": 0.93})
    model = jupyter_mvc.load("HEAD", "model")     # e.g. in a serving process

In IPython/Jupyter: `%load_ext jupyter_mvc`, then `%mv_commit`, `%mv_log`, `%mv_checkout`...
"""

from __future__ import annotations

__version__ = "0.1.0"

from .public import API as _API

__all__ = sorted(set(_API) | {"MvcError", "Repo", "load_ipython_extension"})


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    if name == "Repo":
        from .repo import Repo

        return Repo
    if name == "MvcError":
        from .errors import MvcError

        return MvcError
    raise AttributeError(f"module 'jupyter_mvc' has no attribute {name!r}")


def load_ipython_extension(ipython) -> None:
    from .magics import register

    register(ipython)


def unload_ipython_extension(ipython) -> None:
    from .magics import unregister

    unregister(ipython)
