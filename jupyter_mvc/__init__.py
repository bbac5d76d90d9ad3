"""jupyter_mvc: version control for the models and state that live inside notebooks.

`import jupyter_mvc` stays light: the API loads on first use.

    import jupyter_mvc
    jupyter_mvc.commit({"model": model}, "baseline", metrics={"acc": 0.93})
    model = jupyter_mvc.load("HEAD", "model")     # e.g. in a serving process

In IPython/Jupyter: `%load_ext jupyter_mvc`, then `%mv_commit`, `%mv_log`, `%mv_checkout`...
"""

from __future__ import annotations

__version__ = "0.1.0"

# The public API (api.__all__, kept equal by a test): listed here so that the package
# import does not load the API and its dependencies.
_API = {
    "Head",
    "Status",
    "branch",
    "branches",
    "checkout",
    "commit",
    "data_dir",
    "delete_branch",
    "delete_tag",
    "diff",
    "fingerprint",
    "fsck",
    "gc",
    "head",
    "info",
    "load",
    "log",
    "log_metric",
    "on_change",
    "open_repo",
    "read_file",
    "reproduce",
    "resolve",
    "rm",
    "show",
    "status",
    "tag",
    "tags",
    "trust",
}
__all__ = sorted(_API | {"MvcError", "Repo", "load_ipython_extension"})


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
