"""The version repository: object store + Git history.

repository  Repo: commit, log, show, load, checkout, diff
refs        branches, tags, HEAD, revisions, compare-and-swap
packing     variables <-> streams in the store, manifest entries
trailer     the Mvc-Summary commit trailer
metrics     the metrics.json format and the log_metric buffer
maintenance fsck and gc
config      per-repository settings (the safe-load allow-list)
goals       metric goals, best-version tags and the follow-best commit hook
"""

from .repository import CheckoutResult, Repo

__all__ = ["CheckoutResult", "Repo"]
