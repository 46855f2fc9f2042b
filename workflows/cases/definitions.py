"""Deploying process definitions as numbered versions, and finding them again."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from workflows import processes
from workflows.branch.models import User
from workflows.branch.org import RELATIONS
from workflows.branch.roles import ROLE_KEYS
from workflows.cases import alerts, decisions
from workflows.cases.models import ProcessDefinition
from workflows.db import db
from workflows.engine import dmn_check
from workflows.engine.checks import check_bpmn
from workflows.engine.instance import Engine
from workflows.engine.specs import BuiltDefinition
from workflows.engine.xml import DefinitionError
from workflows.errors import Msg, NotFound

__all__ = ["DefinitionError", "DeployResult", "ENGINE", "deploy", "deploy_directory", "latest", "library_dmn",
           "built_for", "validate"]

ENGINE = Engine()  # the specs of deployed versions, built once per process


@dataclass
class DeployResult:
    definition: ProcessDefinition
    created: bool


def _sha(bpmn_xml: str, dmn_xml: dict[str, str]) -> str:
    blob = json.dumps({"bpmn": bpmn_xml, "dmn": dmn_xml}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def validate(bpmn_xml: str, dmn_xml: dict[str, str] | None = None, filename: str = "process.bpmn") -> BuiltDefinition:
    """Build and check a diagram without deploying it, with the tables deploy would pin; raises DefinitionError."""
    return _check(bpmn_xml, decisions.for_diagram(bpmn_xml, dmn_xml, filename), filename)


def _check(bpmn_xml: str, dmn_xml: dict[str, str], filename: str) -> BuiltDefinition:
    built = check_bpmn(bpmn_xml, dmn_xml, set(ROLE_KEYS), filename, relations=set(RELATIONS),
                       functions=processes.function_names)
    for element, name in alerts.unknown_names(built):
        known = ", ".join(sorted(alerts.providers(built.key))) or "none"
        raise DefinitionError(f"unknown warnings '{name}' (known: {known})", element=element, filename=filename)
    for name, table in sorted(dmn_xml.items()):  # the table checks the DMN designer runs, at every deploy
        found = dmn_check.errors(dmn_check.check_dmn(table, name, set(processes.function_names(built.key))))
        if found:
            first = found[0]
            where = ", ".join(filter(None, [f"rule {first.row}" if first.row else None, first.column]))
            raise DefinitionError(f"{where}: {first.message}" if where else str(first.message),
                                  element=first.element_id or first.rule_id, filename=name)
    return built


def deploy(bpmn_xml: str, dmn_xml: dict[str, str] | None = None, *, by: User | None = None,
           filename: str = "process.bpmn") -> DeployResult:
    """Validate, then store as the next version unless identical to the latest. ``dmn_xml`` are
    DMN documents offered with the diagram (name -> XML); it pins those it uses (``decisions``)."""
    used = decisions.for_diagram(bpmn_xml, dmn_xml, filename)
    built = _check(bpmn_xml, used, filename)
    sha = _sha(bpmn_xml, used)
    current = latest(built.key, required=False)
    if current is not None and current.sha256 == sha:
        return DeployResult(current, False)
    number = (db.session.scalar(select(func.max(ProcessDefinition.version))
                                .where(ProcessDefinition.key == built.key)) or 0) + 1
    pinned = [decisions.store(name, xml, by) for name, xml in sorted(used.items())]
    definition = ProcessDefinition(key=built.key, version=number, name=built.name, bpmn_xml=bpmn_xml,
                                   decisions=pinned, sha256=sha, deployed_by_id=by.id if by else None)
    db.session.add(definition)
    db.session.flush()
    forget_choices()
    return DeployResult(definition, True)


def deploy_directory(path: Path, by: User | None = None) -> list[DeployResult]:
    """Deploy every .bpmn of a library folder, each with the folder's .dmn files it uses."""
    dmn = library_dmn(path)
    return [deploy(p.read_text(encoding="utf-8"), dmn, by=by, filename=p.name) for p in sorted(path.glob("*.bpmn"))]


def library_dmn(path: Path) -> dict[str, str]:
    """The .dmn documents of a library folder by name (deploy keeps those a diagram uses)."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(path.glob("*.dmn"))} if path.is_dir() else {}


def latest(key: str, required: bool = True) -> ProcessDefinition | None:
    found = db.session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.key == key).order_by(ProcessDefinition.version.desc())
    ).first()
    if found is None and required:
        raise NotFound(Msg("no deployed process '%(key)s'", key=key))
    return found


CHOICES_FRESH_FOR = 10.0  # seconds a server process keeps the list of processes for filters
_choices: tuple[float, list[tuple[str, str]]] | None = None


def process_choices() -> list[tuple[str, str]]:
    """(key, name) of every deployed process, for the inbox's process filter, which every inbox page shows:
    kept for :data:`CHOICES_FRESH_FOR` seconds, and at once refreshed after a deploy by this server process
    (a deploy by another one shows within that time)."""
    global _choices
    kept = _choices
    if kept is not None and 0 <= time.monotonic() - kept[0] < CHOICES_FRESH_FOR:
        return kept[1]
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
              .group_by(ProcessDefinition.key).subquery())
    rows = [(r.key, r.name) for r in db.session.execute(
        select(ProcessDefinition.key, ProcessDefinition.name)
        .join(newest, (ProcessDefinition.key == newest.c.key) & (ProcessDefinition.version == newest.c.v))
        .order_by(ProcessDefinition.key))]
    _choices = (time.monotonic(), rows)
    return rows


def forget_choices() -> None:
    global _choices
    _choices = None


def latest_all() -> list[ProcessDefinition]:
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
              .group_by(ProcessDefinition.key).subquery())
    return list(db.session.scalars(
        select(ProcessDefinition).join(newest, (ProcessDefinition.key == newest.c.key)
                                       & (ProcessDefinition.version == newest.c.v)).order_by(ProcessDefinition.key)
    ))


def built_for(definition: ProcessDefinition) -> BuiltDefinition:
    """A deployed version never changes, so its built spec is cached by id."""
    cached = ENGINE.cached(definition.id, definition.sha256)
    if cached is not None:
        return cached
    return ENGINE.spec(definition.id, definition.sha256, definition.bpmn_xml, definition.dmn_xml or {})


def built_by_id(definition_id: int, sha256: str) -> BuiltDefinition:
    """:func:`built_for` from an id and digest read with other rows: no query when the spec is built."""
    cached = ENGINE.cached(definition_id, sha256)
    if cached is not None:
        return cached
    definition = db.session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound(Msg("no deployed process '%(key)s'", key=str(definition_id)))
    return built_for(definition)


def versions(key: str) -> list[ProcessDefinition]:
    return list(db.session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.key == key).order_by(ProcessDefinition.version)))


def deploy_paths(paths: list[Path]) -> list[DeployResult]:
    """An operator's deploy: library folders and single .bpmn files (each with the .dmn files
    beside it), all in one transaction; a DefinitionError stores nothing."""
    results: list[DeployResult] = []
    try:
        for target in paths:
            if target.is_dir():
                results.extend(deploy_directory(target))
            else:
                dmn = library_dmn(target.parent)
                results.append(deploy(target.read_text("utf-8"), dmn, filename=target.name))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return results
