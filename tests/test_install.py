"""What a fresh install needs: every package the code imports is declared, and the
commands that do not crawl start without the crawling stack."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from tests_support import REPO

FIRST_PARTY = {"crawlers", "pipeline", "digests", "web", "tests", "bench", "tests_support"}
RUNTIME = ("crawlers", "pipeline", "digests", "web")
TEST_ONLY = ("tests",)
BENCH = ("bench",)  # may also import the bench extra (the peers the benchmarks run)


def _declared(requirements: list[str]) -> set[str]:
    names = set()
    for req in requirements:
        name = re.match(r"[A-Za-z0-9._-]+", req)
        assert name, req
        names.add(re.sub(r"[-_.]+", "-", name.group(0)).lower())
    return names


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))


def _imports(folder: str) -> dict[str, str]:
    """Top-level third-party modules imported anywhere under ``folder`` -> a file."""
    found: dict[str, str] = {}
    local = {p.stem for p in (REPO / folder).rglob("*.py")} | FIRST_PARTY
    for path in sorted((REPO / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, path.relative_to(REPO).as_posix())
    return found


def _undeclared(folders: tuple[str, ...], declared: set[str]) -> list[str]:
    dists = packages_distributions()
    missing = []
    for folder in folders:
        for module, where in sorted(_imports(folder).items()):
            owners = {re.sub(r"[-_.]+", "-", d).lower() for d in dists.get(module, [module])}
            if not owners & declared:
                missing.append(f"{where}: imports {module} (from {', '.join(sorted(owners))})")
    return missing


def test_every_imported_package_is_declared() -> None:
    project = _pyproject()["project"]
    # the postgresql extra is the runtime of PostgreSQL installs (the store's driver,
    # the work queue); its imports sit in the code that only those use
    runtime = _declared(project["dependencies"]) | _declared(
        project["optional-dependencies"]["postgresql"]
    )
    test = runtime | _declared(project["optional-dependencies"]["test"])
    assert _undeclared(RUNTIME, runtime) == []
    assert _undeclared(TEST_ONLY, test) == []
    bench = test | _declared(project["optional-dependencies"]["bench"])
    assert _undeclared(BENCH, bench) == []


def test_lxml_html_clean_is_named_directly() -> None:
    # jusText (through trafilatura) imports lxml_html_clean and asks for it as
    # lxml[html_clean]; the pip that `python3 -m venv` ships does not match that extra
    # to lxml's `html-clean` and installs nothing, so every crawl would die at import.
    assert "lxml-html-clean" in _declared(_pyproject()["project"]["dependencies"])


CRAWLING_STACK = (
    "httpx",
    "httpcore",
    "feedparser",
    "trafilatura",
    "htmldate",
    "justext",
    "lxml",
    "lxml_html_clean",
    "scrapy",
    "twisted",
    "protego",
)

# Runs the CLI with the crawling stack made unimportable, as when one piece of it is
# broken or missing; records every attempt to import it.
BLOCKED_CLI = """
import sys
BLOCKED = set(sys.argv[1].split(","))
attempts = []
class Broken:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            attempts.append(name)
            raise ImportError(f"{name} is broken in this test", name=name)
sys.meta_path.insert(0, Broken())
from pipeline.cli import main
sys.argv = ["trendwatch", *sys.argv[2:]]
try:
    main()
finally:
    sys.stderr.write(f"\\nIMPORT ATTEMPTS: {sorted(set(attempts))}\\n")
"""


def _blocked(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("TRENDWATCH_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-c", BLOCKED_CLI, ",".join(CRAWLING_STACK), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("broken-crawl")
    done = _blocked("init", ".", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("check",),
        ("status",),
        ("status", "--json"),
        ("digest", "--dry-run"),
        ("digest",),
        ("archive",),
        ("crawl", "--help"),
        ("serve", "--help"),
    ],
)
def test_commands_that_do_not_crawl_never_load_the_crawling_stack(
    project: Path, args: tuple[str, ...]
) -> None:
    done = _blocked(*args, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "IMPORT ATTEMPTS: []" in done.stderr


@pytest.mark.parametrize("args", [("crawl",), ("sources", "export"), ("demo", "d")])
def test_a_broken_crawling_stack_stops_only_the_commands_that_crawl_with_a_clear_message(
    project: Path, args: tuple[str, ...]
) -> None:
    done = _blocked(*args, cwd=project)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "Cannot load a package this command needs (" in done.stderr
    assert "is broken in this test" in done.stderr
    assert "pip install --force-reinstall trendwatch" in done.stderr
