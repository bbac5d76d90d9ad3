"""IPython face: `%load_ext jupyter_mvc` registers the %mv_ magics, their tab completion
and the autocommit hook. All per-kernel state lives in one `KernelState` held by the
`Operations` object that the magics (and the JupyterLab comm) call."""
from __future__ import annotations

import functools

from . import autocommit, completion
from .commands import MvcMagics
from .operations import Operations
from .state import KernelState

_ATTR = "_jupyter_mvc"  # where the shell keeps what register() installed, for unregister()


def register(ipython) -> Operations:
    unregister(ipython)  # %reload_ext: start clean
    ops = Operations(ipython, KernelState())
    magics = MvcMagics(ipython, ops)
    ipython.register_magics(magics)
    parsers = {name: getattr(magics, name).parser for name in magics.magics["line"]}
    matcher = completion.install(ipython, ops, parsers)
    hook = functools.partial(autocommit.after_cell, ops)
    ipython.events.register("post_run_cell", hook)
    setattr(ipython, _ATTR, (ops, magics, matcher, hook))
    from .comm import register_comm_target; register_comm_target(ipython, ops)  # JupyterLab sidebar
    return ops


def unregister(ipython) -> None:
    installed = getattr(ipython, _ATTR, None)
    if installed is None:
        return
    _ops, magics, matcher, hook = installed
    for name in magics.magics["line"]:
        ipython.magics_manager.magics["line"].pop(name, None)
    completion.uninstall(ipython, matcher)
    try:
        ipython.events.unregister("post_run_cell", hook)
    except ValueError:
        pass
    delattr(ipython, _ATTR)
