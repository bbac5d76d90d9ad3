"""Everything the magics remember about one kernel, in one place."""
from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass
class KernelState:
    # The version this kernel last committed or checked out in full: the baseline that
    # %mv_status and the dirty-checkout check compare against (None: the repo's HEAD).
    version: str | None = None
    # Variable names this kernel versions; with `track_all`, every variable worth versioning.
    tracked: set[str] = field(default_factory=set)
    track_all: bool = False
    autocommit: bool = False
    # name -> content id of a value this kernel knows is stored (committed or checked out),
    # so restoring a variable from an older version does not count as an unsaved change.
    known_ids: dict[str, str] = field(default_factory=dict)
    # Set on the first commit, so later commits go to the same repository even after a
    # `%cd`; None: the notebook's folder, else the working directory.
    repo_path: str | None = None
    # What a commit could not capture (e.g. no notebook file) is said once per kernel.
    said: set[str] = field(default_factory=set)

    def path(self, notebook: str | None = None) -> str:
        if self.repo_path:
            return self.repo_path
        return os.path.dirname(notebook) if notebook else os.getcwd()
