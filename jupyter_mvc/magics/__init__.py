"""IPython face: `%load_ext jupyter_mvc` registers the %mv_ magics, their tab completion,
the autocommit hook and the JupyterLab comm target. All per-kernel state lives in one
`KernelSession` (the session layer) that all of them call."""

from __future__ import annotations

import functools

from ..session import KernelSession
from . import autocommit, comm, completion
from .commands import MvcMagics
from .kernel import IPythonKernel
from .runs import RunsMagics
from .sharing import SharingMagics

_ATTR = "_jupyter_mvc"  # where the shell keeps what register() installed, for unregister()


def register(ipython) -> KernelSession:
    unregister(ipython)  # %reload_ext: start clean
    kernel = IPythonKernel(ipython)
    session = KernelSession(kernel)
    magics = (MvcMagics(ipython, session), SharingMagics(ipython, session), RunsMagics(ipython, session))
    parsers = {}
    for group in magics:
        ipython.register_magics(group)
        parsers.update({name: getattr(group, name).parser for name in group.magics["line"]})
    matcher = completion.install(ipython, session, parsers)
    # The kernel notes when each cell finished first: autocommit (and any commit) can then
    # tell whether the saved notebook predates cells that ran.
    hooks = (kernel.cell_finished, functools.partial(autocommit.after_cell, session))
    for hook in hooks:
        ipython.events.register("post_run_cell", hook)
    setattr(ipython, _ATTR, (session, magics, matcher, hooks))
    comm.register_comm_target(ipython, session)  # the JupyterLab sidebar
    return session


def unregister(ipython) -> None:
    installed = getattr(ipython, _ATTR, None)
    if installed is None:
        return
    _session, magics, matcher, hooks = installed
    for group in magics:
        for name in group.magics["line"]:
            ipython.magics_manager.magics["line"].pop(name, None)
    completion.uninstall(ipython, matcher)
    for hook in hooks:
        try:
            ipython.events.unregister("post_run_cell", hook)
        except ValueError:
            pass
    delattr(ipython, _ATTR)
