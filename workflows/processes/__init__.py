"""Process families, one package each, listed once in FAMILIES.

The platform (start, the script engine, deploy checks, labels, ``seed demo``,
the sweeper, the settings page) reads families from :func:`families`; it knows
a family only through its :class:`~workflows.processes.family.Family`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workflows.cases.functions import functions as generic_functions
from workflows.processes import leave, ownership, sale
from workflows.processes.family import Family, StartCheck, StartRequest

__all__ = ["FAMILIES", "Family", "StartCheck", "StartRequest", "families", "family_of", "register", "unregister"]

FAMILIES: tuple[Family, ...] = (ownership.FAMILY, leave.FAMILY, sale.FAMILY)

_registered: list[Family] = []  # tests only: families plugged in by register()


def families() -> tuple[Family, ...]:
    return FAMILIES + tuple(_registered)


def register(family: Family) -> None:
    """Plug in one more family at run time. For tests: production families are listed in FAMILIES."""
    _check_new(family)
    _registered.append(family)


def unregister(family: Family) -> None:
    if family in _registered:
        _registered.remove(family)


def _check_new(family: Family) -> None:
    for other in families():
        if other.key == family.key:
            raise ValueError(f"family '{family.key}' is already registered")
        if other.process_keys & family.process_keys:
            raise ValueError(f"processes {sorted(other.process_keys & family.process_keys)} already belong to "
                             f"'{other.key}'")
    clash = family.functions.names & generic_functions.names
    if clash:
        raise ValueError(f"family '{family.key}' redefines generic functions {sorted(clash)}")


def family_of(process_key: str) -> Family | None:
    for family in families():
        if process_key in family.process_keys:
            return family
    return None


def function_names(process_key: str) -> frozenset[str]:
    """What a diagram of this process may call: the generic functions and its own family's."""
    family = family_of(process_key)
    return generic_functions.names | (family.functions.names if family else frozenset())


def bind_functions(process_key: str, ctx: Any) -> dict[str, Callable[..., Any]]:
    """The functions of :func:`function_names`, bound to one running case."""
    family = family_of(process_key)
    bound = generic_functions.bind(ctx)
    if family is not None:
        bound.update(family.functions.bind(ctx))
    return bound


def labels() -> dict[str, str]:
    """Every family's labels (event types, violation kinds, change keys → msgid)."""
    merged: dict[str, str] = {}
    for family in families():
        merged.update(family.labels)
    return merged


def warnings_for(process_key: str) -> dict[str, Any]:
    """The warning providers a diagram of this process may name: its family's."""
    family = family_of(process_key)
    return dict(family.warnings) if family is not None else {}


def start_checks(process_key: str) -> tuple[StartCheck, ...]:
    family = family_of(process_key)
    return family.start_checks if family is not None else ()


def function_docs() -> list[tuple[str, list[Any]]]:
    """(owner, its functions' docs): the generic table first, then each family's."""
    tables = [("generic", generic_functions)] + [(f.key, f.functions) for f in FAMILIES]
    return [(owner, docs) for owner, table in tables if (docs := table.docs())]


def functions_text() -> str:
    lines = []
    for owner, docs in function_docs():
        title = "every diagram" if owner == "generic" else f"diagrams of the {owner} family"
        lines.append(f"{owner} ({title}):")
        lines.extend(f"  {d.name}{d.signature}  {d.summary}" for d in docs)
    return "\n".join(lines)


def functions_markdown() -> str:
    """The README's list of diagram functions (``flask processes functions --markdown``)."""
    lines = []
    for owner, docs in function_docs():
        title = "Any diagram" if owner == "generic" else f"Diagrams of the `{owner}` family only"
        lines.append(f"- {title}:")
        lines.extend(f"  - `{d.name}{d.signature}`: {d.summary}" for d in docs)
    return "\n".join(lines)
