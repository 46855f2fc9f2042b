"""The import contract, read from the source with ``ast``: webapp -> workflows -> database.

- ``workflows`` imports nothing of ``webapp`` and never touches the request (``flask.request``,
  ``session``, ``g``, ``flask_login.current_user``): it runs the same from a CLI, a worker or a test.
- ``workflows/engine`` imports nothing of the branch, the cases runtime or a family.
- The platform (``workflows/cases``, ``workflows/branch``) reaches a family only through the
  registry module ``workflows/processes/__init__.py``.
- Views (``webapp/*.py``, ``webapp/processes/*.py``, ``webapp/api/*.py``) import no model module,
  no SQLAlchemy, no SpiffWorkflow, and no ``workflows.db`` (only the factory, ``webapp/__init__.py``
  and its ``migrations_cli.py``, the settings, ``webapp/config.py``, and the app-wide error handler,
  ``webapp/errors.py``, which ends a failed transaction, touch the database handle).
- One clock: no ``date.today()``, ``datetime.now()``, ``datetime.utcnow()`` (nor ``datetime.today()``,
  ``time.time()``, ``time.localtime()``, ``datetime.fromtimestamp()``) in ``workflows/`` or ``webapp/``
  outside ``workflows/engine/clock.py``.

Each rule is shown to fail on a small synthetic source, then the real tree is checked. Imports
inside functions and under ``TYPE_CHECKING`` count like any other.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("workflows", "webapp")

REQUEST_STATE = {"flask.request", "flask.session", "flask.g", "flask_login.current_user"}
PLATFORM = ("workflows/cases/", "workflows/branch/")
FACTORY = {"webapp/__init__.py", "webapp/config.py", "webapp/errors.py", "webapp/migrations_cli.py"}
_MODELS = re.compile(r"^workflows(\.\w+)*\.models(\.|$)")
_CLOCK_CALLS = {("date", "today"), ("datetime", "today"), ("datetime", "now"), ("datetime", "utcnow"),
                ("time", "time"), ("time", "localtime"), ("datetime", "fromtimestamp")}
CLOCK_MODULE = "workflows/engine/clock.py"


@dataclass(frozen=True, order=True)
class Violation:
    path: str  # posix, relative to the project root
    rule: str
    what: str  # the imported name or the forbidden call
    line: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        """Line numbers move with every edit; the allow-list names the file, rule and import."""
        return self.path, self.rule, self.what


def module_name(path: str) -> str:
    """``workflows/cases/inbox.py`` -> ``workflows.cases.inbox``; a package's ``__init__`` is the package."""
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: str, tree: ast.AST) -> list[tuple[int, str]]:
    """Every dotted name a file imports: ``from a.b import c`` gives ``a.b`` and ``a.b.c``;
    relative imports are resolved against the file's package; ``flask.request`` read as an
    attribute of an imported ``flask`` counts as importing it."""
    package = module_name(path) if path.endswith("__init__.py") else module_name(path).rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            dotted = f"{node.value.id}.{node.attr}"
            if dotted in REQUEST_STATE:
                found.append((node.lineno, dotted))
    return found


def clock_calls(tree: ast.AST) -> list[tuple[int, str]]:
    """Calls like ``date.today()``, ``dt.datetime.now(UTC)``, ``datetime.utcnow()``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (owner_name, node.func.attr) in _CLOCK_CALLS:
                found.append((node.lineno, f"{owner_name}.{node.func.attr}()"))
    return found


def _is_view(path: str) -> bool:
    if path in FACTORY:
        return False
    return bool(re.fullmatch(r"webapp/(processes/|api/)?\w+\.py", path))


def check_source(path: str, source: str, modules: set[str]) -> list[Violation]:
    """The contract's violations in one file; ``modules`` are the project's module names (to tell
    ``from workflows.processes import ownership``, a family, from ``... import FAMILIES``, a name)."""
    tree = ast.parse(source, filename=path)
    out: list[Violation] = []
    for line, name in imported_names(path, tree):
        if path.startswith("workflows/"):
            if name == "webapp" or name.startswith("webapp."):
                out.append(Violation(path, "workflows imports webapp", name, line))
            if name in REQUEST_STATE:
                out.append(Violation(path, "workflows reads the request", name, line))
        if path.startswith("workflows/engine/") and re.match(r"^workflows\.(cases|branch|processes)(\.|$)", name):
            out.append(Violation(path, "engine imports the platform or a family", name, line))
        if path.startswith(PLATFORM):
            family = re.match(r"^workflows\.processes\.(\w+)", name)
            if family and f"workflows.processes.{family.group(1)}" in modules:
                out.append(Violation(path, "platform imports a family", name, line))
        if _is_view(path):
            if _MODELS.match(name):
                out.append(Violation(path, "view imports a model", name, line))
            for banned in ("sqlalchemy", "SpiffWorkflow", "workflows.db"):
                if name == banned or name.startswith(banned + "."):
                    out.append(Violation(path, f"view imports {banned}", name, line))
    if path != CLOCK_MODULE and path.startswith(PACKAGES):
        out += [Violation(path, "a clock other than workflows.engine.clock", call, line)
                for line, call in clock_calls(tree)]
    # ``from a import b`` yields a and a.b: report one violation per file, rule and line, the shortest name
    unique: dict[tuple[str, str, int], Violation] = {}
    for v in sorted(out, key=lambda v: len(v.what)):
        unique.setdefault((v.path, v.rule, v.line), v)
    return sorted(unique.values())


def project_sources() -> dict[str, str]:
    return {p.relative_to(ROOT).as_posix(): p.read_text("utf-8")
            for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def check_tree(sources: dict[str, str]) -> list[Violation]:
    modules = {module_name(path) for path in sources}
    return [v for path, source in sources.items() for v in check_source(path, source, modules)]


# Known violations the contract tolerates: none. Nothing may be added to it; a new violation fails
# the test below.
KNOWN_VIOLATIONS: frozenset[tuple[str, str, str]] = frozenset()


# --- the checker fails when a rule is broken ---------------------------------------------

FAKE_MODULES = {"workflows", "workflows.processes", "workflows.processes.leave", "workflows.processes.leave.rules",
                "workflows.cases", "workflows.cases.models", "workflows.branch.models", "webapp"}


def _rules(path: str, source: str) -> list[str]:
    return [v.rule for v in check_source(path, source, FAKE_MODULES)]


@pytest.mark.parametrize(("path", "source", "rule"), [
    ("workflows/cases/inbox.py", "from webapp.presenter import case_fields\n", "workflows imports webapp"),
    ("workflows/cases/inbox.py", "import webapp\n", "workflows imports webapp"),
    ("workflows/cases/inbox.py", "from flask import request\n", "workflows reads the request"),
    ("workflows/cases/inbox.py", "from flask import g, session\n", "workflows reads the request"),
    ("workflows/branch/org.py", "import flask\ndef f():\n    return flask.request.args\n",
     "workflows reads the request"),
    ("workflows/cases/access.py", "from flask_login import current_user\n", "workflows reads the request"),
    ("workflows/engine/specs.py", "from workflows.cases.functions import HELPER_NAMES\n",
     "engine imports the platform or a family"),
    ("workflows/engine/sandbox.py", "def f():\n    from workflows.processes.leave import rules\n",
     "engine imports the platform or a family"),
    ("workflows/engine/checks.py", "from workflows.branch import roles\n", "engine imports the platform or a family"),
    ("workflows/engine/checks.py", "import workflows.processes\n", "engine imports the platform or a family"),
    ("workflows/cases/functions.py", "from workflows.processes.leave import rules\n", "platform imports a family"),
    ("workflows/cases/functions.py", "from workflows.processes import leave\n", "platform imports a family"),
    ("workflows/branch/demo.py", "import workflows.processes.leave.rules\n", "platform imports a family"),
    ("webapp/inbox.py", "from workflows.cases.models import HumanTask\n", "view imports a model"),
    ("webapp/inbox.py", "from workflows.cases import models\n", "view imports a model"),
    ("webapp/api/routes.py", "from sqlalchemy import select\n", "view imports sqlalchemy"),
    ("webapp/processes/leave.py", "from sqlalchemy.orm import joinedload\n", "view imports sqlalchemy"),
    ("webapp/cases.py", "from SpiffWorkflow.util.task import TaskState\n", "view imports SpiffWorkflow"),
    ("webapp/admin.py", "def f():\n    from workflows.db import db\n", "view imports workflows.db"),
    ("webapp/processes/leave.py", "from ..processes import x\nfrom workflows.processes.leave.models import Leave\n",
     "view imports a model"),
    ("workflows/cases/timers.py", "import datetime as dt\nx = dt.datetime.now(dt.UTC)\n",
     "a clock other than workflows.engine.clock"),
    ("workflows/branch/demo.py", "from datetime import date\nx = date.today()\n",
     "a clock other than workflows.engine.clock"),
    ("webapp/template_helpers.py", "import datetime\nx = datetime.datetime.utcnow()\n",
     "a clock other than workflows.engine.clock"),
    ("workflows/cases/timers.py", "import time\nx = time.time()\n", "a clock other than workflows.engine.clock"),
])
def test_the_checker_refuses_each_broken_rule(path: str, source: str, rule: str) -> None:
    assert rule in _rules(path, source)


@pytest.mark.parametrize(("path", "source"), [
    ("workflows/cases/commands.py", "from workflows.processes import FAMILIES\nimport workflows.processes\n"),
    ("workflows/cases/audit.py", "from flask import current_app\n"),
    ("workflows/engine/specs.py", "from workflows.engine import clock\nfrom workflows.errors import Msg\n"),
    ("workflows/processes/leave/rules.py", "from workflows.cases.models import ProcessInstance\n"
                                           "from workflows.branch import org\n"),
    ("webapp/__init__.py", "from workflows.db import db\nfrom sqlalchemy import event\n"),
    ("webapp/inbox.py", "from workflows.cases import inbox\nfrom flask import request\n"),
    ("webapp/processes/__init__.py", "from . import leave\n"),
    ("workflows/engine/clock.py", "import datetime as dt\nx = dt.datetime.now(dt.UTC)\n"),
    ("workflows/cases/timers.py", "from workflows.engine import clock\nx = clock.now()\ny = clock.today()\n"),
])
def test_the_checker_lets_the_allowed_directions_pass(path: str, source: str) -> None:
    assert _rules(path, source) == []


def test_relative_imports_are_resolved() -> None:
    assert "webapp.processes.leave" in [n for _, n in imported_names("webapp/processes/__init__.py",
                                                                     ast.parse("from . import leave"))]
    assert "webapp.config.Config" in [n for _, n in imported_names("webapp/cases.py",
                                                                   ast.parse("from .config import Config"))]


def test_a_new_violation_in_the_tree_is_caught() -> None:
    sources = project_sources()
    sources["workflows/engine/specs.py"] += "\nfrom workflows.processes.ownership import rules\n"
    sources["webapp/profile.py"] += "\nfrom workflows.branch.models import User\n"
    new = {v.key for v in check_tree(sources)} - KNOWN_VIOLATIONS
    assert ("workflows/engine/specs.py", "engine imports the platform or a family",
            "workflows.processes.ownership") in new
    assert ("webapp/profile.py", "view imports a model", "workflows.branch.models") in new


# --- the real tree -------------------------------------------------------------------------


def test_the_source_tree_keeps_the_import_contract() -> None:
    found = check_tree(project_sources())
    new = [f"{v.path}:{v.line}: {v.rule}: {v.what}" for v in found if v.key not in KNOWN_VIOLATIONS]
    assert new == [], "\n".join(new)


def test_the_allow_list_names_only_violations_that_still_exist() -> None:
    """So the list shrinks as the code is fixed, and cannot hide a rule that no longer fires."""
    current = {v.key for v in check_tree(project_sources())}
    assert sorted(KNOWN_VIOLATIONS - current) == []
