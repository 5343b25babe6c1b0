"""What ``pyproject.toml`` installs: ``make run`` gets the runtime dependencies only (``pip install -e .``),
``make test`` and ``make lint`` add the dev extras. So no module the desk runs may import a package only
the dev extras bring (``make run`` would fail on a server where ``make test`` passed), and every package
the tests import must come with one of the two."""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable
from functools import cache
from importlib import metadata

import tomli  # tomllib from Python 3.11; alembic (runtime) and pytest require tomli here

from bot.core.settings import PROJECT_DIR

RUNTIME_CODE = ("bot", "actions", "rasa_components")  # the gateway, the action server, Rasa's components
OURS = {"bot", "actions", "rasa_components", "tests", "scripts"}


def pyproject() -> dict[str, object]:
    with (PROJECT_DIR / "pyproject.toml").open("rb") as handle:
        return tomli.load(handle)


def requirement_name(requirement: str) -> str:
    """``psycopg[binary]>=3.1`` -> ``psycopg``, normalised as PyPI compares names."""
    match = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def declared() -> tuple[set[str], set[str]]:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    runtime = {requirement_name(r) for r in project["dependencies"]}
    dev = {requirement_name(r) for r in project["optional-dependencies"]["dev"]}
    return runtime, dev


def with_dependencies(names: Iterable[str]) -> set[str]:
    """The distributions and everything they require when installed (extras' requirements left out)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [requirement_name(r) for r in requires if "extra ==" not in r.replace('"', "")]
    return seen


@cache
def modules_by_distribution() -> dict[str, set[str]]:
    """Installed distribution -> the top-level modules it provides: its ``top_level.txt``, or the first
    part of the paths it installed (Python 3.10's ``packages_distributions`` reads top_level.txt only,
    and wheels built by newer tools have none)."""
    provided: dict[str, set[str]] = {}
    for distribution in metadata.distributions():
        listed = (distribution.read_text("top_level.txt") or "").split()
        paths = [f.parts for f in distribution.files or [] if f.parts and f.parts[0] != ".."]
        found = set(listed) | {
            parts[0].split(".")[0]
            for parts in paths
            if not parts[0].endswith((".dist-info", ".egg-info", ".pth", ".data"))
            and parts[0] != "__pycache__"
        }
        provided.setdefault(requirement_name(distribution.metadata["Name"]), set()).update(found)
    return provided


def modules_of(distributions: Iterable[str]) -> set[str]:
    return {m for d in distributions for m in modules_by_distribution().get(d, set())}


def imported_modules(folders: Iterable[str]) -> dict[str, set[str]]:
    """Top-level module -> the files of ``folders`` that import it (absolute imports only)."""
    imports: dict[str, set[str]] = {}
    for folder in folders:
        for path in (PROJECT_DIR / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    imports.setdefault(name.split(".")[0], set()).add(str(path.relative_to(PROJECT_DIR)))
    return imports


def dev_only_modules() -> set[str]:
    """What the dev extras install and the runtime dependencies do not bring, as importable names."""
    runtime, dev = declared()
    return modules_of(with_dependencies(dev) - with_dependencies(runtime))


def test_the_dev_extras_are_the_test_and_lint_tools_only() -> None:
    runtime, dev = declared()
    assert {"pytest", "hypothesis", "playwright", "ruff", "mypy", "import-linter"} <= dev
    assert not runtime & dev, "a package is either the desk's or the tools'"
    assert {"pytest", "hypothesis", "playwright"} <= dev_only_modules(), "the check below is not empty"


def test_no_runtime_module_imports_a_dev_only_package() -> None:
    dev_only = dev_only_modules()
    offending = {
        module: sorted(files)
        for module, files in imported_modules(RUNTIME_CODE).items()
        if module in dev_only
    }
    assert not offending, f"runtime code imports dev-only packages (make run lacks them): {offending}"


# tests/rasa_components/*_check.py run in Rasa's own environment (.venv-rasa), which requirements/rasa.txt
# installs: Rasa's packages are not ours to declare
RASA_ENVIRONMENT = frozenset({"rasa", "rasa_sdk", "sanic", "jsonschema"})


def test_every_package_the_tests_import_is_installed_by_the_runtime_or_the_dev_extras() -> None:
    runtime, dev = declared()
    available = modules_of(with_dependencies(runtime | dev))
    missing = {
        module: sorted(files)[:3]
        for module, files in imported_modules(["tests"]).items()
        if module not in sys.stdlib_module_names and module not in OURS | {"__future__"}
        if module not in available and module not in RASA_ENVIRONMENT
    }
    assert not missing, f"tests import packages pyproject.toml does not install: {missing}"


def test_make_run_installs_no_dev_extras_and_make_test_adds_them() -> None:
    """Read from the Makefile's rules (``make -n`` shows the same): the runtime stamp installs ``-e .``,
    the dev stamp builds on it, and only test and lint depend on the dev stamp."""
    makefile = (PROJECT_DIR / "Makefile").read_text(encoding="utf-8")
    rules = {
        target.strip(): (prerequisites.split(), recipe)
        for target, prerequisites, recipe in re.findall(
            r"^([^\s#:=][^:\n=]*):(?!=)([^\n]*)\n((?:\t[^\n]*\n?)*)", makefile, re.MULTILINE
        )
    }
    runtime_stamp, dev_stamp = "$(APP_VENV)/.installed", "$(APP_VENV)/.dev-installed"
    assert "-e ." in rules[runtime_stamp][1] and "[dev]" not in rules[runtime_stamp][1]
    assert runtime_stamp in rules[dev_stamp][0] and "'.[dev]'" in rules[dev_stamp][1]
    assert dev_stamp in rules["test"][0] and dev_stamp in rules["lint"][0]

    def needs(target: str) -> set[str]:
        found = {target}
        for prerequisite in rules.get(target, ([], ""))[0]:
            found |= needs(prerequisite)
        return found

    assert dev_stamp not in needs("run"), "make run must not install the dev tools"
    assert dev_stamp in needs("test")
