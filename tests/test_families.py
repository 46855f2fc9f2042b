"""The platform reads process families from one registration: functions, deploy checks,
labels, demo data and navigation, with the engine knowing no family."""

from __future__ import annotations

import ast
import re

import pytest
from flask import Flask

from tests.conftest import ROOT
from workflows import processes
from workflows.branch import demo
from workflows.cases.functions import FunctionTable
from workflows.cases.functions import functions as generic
from workflows.engine.sandbox import UnsafeExpression, check_expression, check_script
from workflows.processes import leave, ownership, sale


def test_production_lists_the_real_families() -> None:
    assert processes.FAMILIES == (ownership.FAMILY, leave.FAMILY, sale.FAMILY)
    keys = [f.key for f in processes.FAMILIES]
    assert len(keys) == len(set(keys))
    for family in processes.FAMILIES:
        assert not family.functions.names & generic.names, family.key


def test_the_readme_lists_exactly_the_registered_functions() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    block = re.search(r"<!-- functions:begin[^>]*-->\n(.*?)\n<!-- functions:end -->", readme, re.S)
    assert block is not None
    assert block.group(1) == processes.functions_markdown(), \
        "README's function list is stale: paste `flask processes functions --markdown` between its markers"
    listed = set(re.findall(r"`([a-z_]+)\(", block.group(1)))
    assert listed == generic.names.union(*(f.functions.names for f in processes.FAMILIES))


def test_flask_processes_functions_prints_them(app: Flask) -> None:
    out = app.test_cli_runner().invoke(args=["processes", "functions"]).output
    for name in generic.names | ownership.FAMILY.functions.names:
        assert f"  {name}(" in out
    assert "ownership (diagrams of the ownership family):" in out


def test_the_engine_imports_no_module_of_the_branch_cases_or_families() -> None:
    for path in sorted((ROOT / "workflows" / "engine").glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(("workflows.cases", "workflows.branch", "workflows.processes")), \
                    f"{path.name} imports {name}"


def test_the_sandbox_allows_only_the_names_it_is_given() -> None:
    with pytest.raises(UnsafeExpression, match="call not allowed: register_ownership"):
        check_expression("register_ownership()")
    check_expression("register_ownership()", {"register_ownership"})
    with pytest.raises(UnsafeExpression, match="call not allowed: notify"):
        check_script("x = notify('initiator', 'hi')", {"len"})


def test_a_table_refuses_a_name_twice_and_describes_its_functions() -> None:
    table = FunctionTable("t")

    @table.register
    def twice(case, a: int, b: str = "x") -> int:
        """Adds.

        Longer text not shown."""
        return a

    with pytest.raises(ValueError, match="twice"):
        table.register(twice)
    [doc] = table.docs()
    assert (doc.name, doc.signature, doc.summary, doc.owner) == ("twice", "(a: int, b: str = x)", "Adds.", "t")
    assert table.bind("the case")["twice"](3) == 3  # the case is filled in


def test_seed_demo_runs_each_familys_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    ran = []
    family = processes.Family(key="seeded", process_keys=frozenset({"seeded_p"}), functions=FunctionTable("seeded"),
                              demo=lambda: ran.append("seeded"))
    monkeypatch.setattr(processes, "FAMILIES", (family,))
    demo._sample_cases()
    assert ran == ["seeded"]


def test_the_navigation_shows_each_familys_pages_to_whom_they_are_for(web) -> None:
    web.login("staff01")
    assert 'data-nav="registry"' in web.client.get("/").get_data(as_text=True)
    web.logout()
    web.login("counter1")  # no staff role and not a registry reader: the page would refuse
    assert 'data-nav="registry"' not in web.client.get("/").get_data(as_text=True)
    assert web.client.get("/registry").status_code == 403
