"""The kernel-session layer: what versioning means for one live kernel's namespace.

Whole-namespace commit (skipping what cannot be serialised), status against the version
the kernel last committed or checked out, checkout with the dirty guard, notebook restore,
autocommit. Faces (magics, the JupyterLab comm, the timeline's button) call a
`KernelSession` and get typed reports back or typed errors raised; only the magics turn
reports into text, only the comm into JSON. Nothing here imports IPython: the kernel is
reached through the `Kernel` protocol.
"""

from .kernel import Kernel
from .reports import CheckoutReport, CommitReport, NotebookRestore
from .session import KernelSession

__all__ = ["CheckoutReport", "CommitReport", "Kernel", "KernelSession", "NotebookRestore"]
