"""The tree is the architecture: crawlers/ and digests/ never import pipeline/."""

from __future__ import annotations

import ast

import pytest

from tests_support import REPO


@pytest.mark.parametrize("package", ["crawlers", "digests"])
def test_leaf_packages_do_not_import_pipeline(package: str) -> None:
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "pipeline"]
    assert offenders == []


def test_only_the_store_writes_sql() -> None:
    writers = []
    for path in sorted(REPO.glob("*/**/*.py")):
        if path.parts[len(REPO.parts)] not in ("crawlers", "digests", "pipeline"):
            continue
        text = path.read_text("utf-8")
        if any(word in text for word in ("INSERT INTO", "UPDATE ", "DELETE FROM", "sqlite3")):
            writers.append(path.relative_to(REPO).as_posix())
    assert writers, "the store writes SQL somewhere"
    assert [w for w in writers if not w.startswith("pipeline/store/")] == []
