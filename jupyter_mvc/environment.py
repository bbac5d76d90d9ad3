"""What a version records about the environment that produced it (env.json)."""

from __future__ import annotations

import platform
import sys

# Distributions worth recording when their module is loaded (module -> distribution).
_TRACKED = {
    "numpy": "numpy",
    "pandas": "pandas",
    "sklearn": "scikit-learn",
    "torch": "torch",
    "scipy": "scipy",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "tensorflow": "tensorflow",
    "keras": "keras",
    "IPython": "ipython",
    "jupyter_mvc": "jupyter_mvc",
}


def capture(code_commit: str | None) -> dict:
    from importlib import metadata  # ~35 ms: only a commit needs it, not every `mvc` command

    packages = {}
    for module, dist in _TRACKED.items():
        if module in sys.modules:
            try:
                packages[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                pass
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": packages,
        "code_commit": code_commit,
    }
