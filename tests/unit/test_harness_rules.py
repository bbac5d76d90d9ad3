"""Rules of the test harness itself: test modules take fixtures from conftest.py files and
helpers from tests/support/, never from conftest.py or another test module by import."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or "")
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_no_test_module_imports_from_conftest_or_another_test_module():
    bad = []
    for path in sorted(TESTS.rglob("*.py")):
        if "support" in path.relative_to(TESTS).parts:
            continue
        for module in _imported_modules(path):
            last = module.rsplit(".", 1)[-1]
            if last == "conftest" or last.startswith("test_"):
                bad.append(f"{path.relative_to(TESTS.parent)}: imports {module}")
    assert not bad, "import helpers from tests.support instead:\n" + "\n".join(bad)
