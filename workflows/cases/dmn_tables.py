"""What the designer's DMN pages and API need besides HTTP: the deployed DMN documents and
their versions, which processes use them, checking a changed table, and deploying it.

Deploying a table makes a new :class:`DecisionDefinition` version and a new version of every
process whose latest version uses the document, pinned to the new table (its BPMN and its
other tables unchanged): new cases use it; a running case keeps the process version, and so
the tables, it started with.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from workflows import processes
from workflows.branch.models import User
from workflows.cases import decisions, definitions
from workflows.cases.models import DecisionDefinition, ProcessDefinition
from workflows.db import db
from workflows.engine.dmn_check import Problem, check_dmn, errors
from workflows.engine.xml import DefinitionError
from workflows.errors import Conflict, Invalid, Msg, NotFound

__all__ = ["DmnDeployResult", "Document", "check", "deploy", "documents", "get_version", "processes_using",
           "valid_key"]

log = logging.getLogger(__name__)
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,115}\.dmn")


@dataclass
class Document:
    """A deployed DMN document: its versions (oldest first) and the processes whose latest version uses it."""

    key: str
    versions: list[DecisionDefinition]
    processes: list[ProcessDefinition] = field(default_factory=list)

    @property
    def latest(self) -> DecisionDefinition:
        return self.versions[-1]


def valid_key(key: str) -> bool:
    return bool(_KEY.fullmatch(key))


def _all_versions(key: str | None = None) -> list[DecisionDefinition]:
    query = select(DecisionDefinition).order_by(DecisionDefinition.key, DecisionDefinition.version)
    if key is not None:
        query = query.where(DecisionDefinition.key == key)
    return list(db.session.scalars(query))


def processes_using(key: str) -> list[ProcessDefinition]:
    """The processes whose latest version pins some version of this document."""
    return [p for p in definitions.latest_all() if any(d.key == key for d in p.decisions)]


def documents() -> list[Document]:
    found: dict[str, Document] = {}
    for version in _all_versions():
        found.setdefault(version.key, Document(version.key, [])).versions.append(version)
    for process in definitions.latest_all():
        for pinned in process.decisions:
            if pinned.key in found:
                found[pinned.key].processes.append(process)
    return list(found.values())


def document(key: str) -> Document:
    versions = _all_versions(key)
    if not versions:
        raise NotFound(Msg("no deployed DMN document '%(key)s'", key=key))
    return Document(key, versions, processes_using(key))


def get_version(key: str, version: int) -> DecisionDefinition:
    found = None
    if 0 < version < 2**31:
        found = db.session.scalars(select(DecisionDefinition).where(
            DecisionDefinition.key == key, DecisionDefinition.version == version)).first()
    if found is None:
        raise NotFound(Msg("no version %(version)s of DMN document '%(key)s'", version=version, key=key))
    return found


def _functions(users: list[ProcessDefinition]) -> set[str]:
    return {name for p in users for name in processes.function_names(p.key)}


def check(key: str, dmn_xml: str) -> list[Problem]:
    """Every problem of the changed table (see ``dmn_check``), and of each process using the document
    built with it (a decision it names that the table no longer defines…): errors block deploying."""
    users = processes_using(key)
    try:
        problems = check_dmn(dmn_xml, key, _functions(users))
    except Exception:  # noqa: BLE001 - a checker bug on hostile input is a refusal, never a 500
        log.exception("dmn: unexpected error while checking a table")
        return [Problem("xml", Msg("the table could not be checked"))]
    if errors(problems):
        return problems
    defined = set(decisions.defined_ids(dmn_xml, key))
    for process in users:
        tables = dict(process.dmn_xml)
        tables[key] = dmn_xml
        lost = sorted(decisions.referenced_ids(process.bpmn_xml) & _ids_of(process, key) - defined)
        if lost:
            problems.append(Problem("process", Msg("process %(process)s names decision %(decision)s, which the "
                                                   "table no longer defines", process=process.key,
                                                   decision=", ".join(lost))))
            continue
        try:
            definitions.validate(process.bpmn_xml, tables, f"{process.key}.bpmn")
        except DefinitionError as exc:
            problems.append(Problem("process", Msg("process %(process)s: %(detail)s", process=process.key,
                                                   detail=str(exc))))
        except Exception:  # noqa: BLE001 - a parser bug on hostile input is refused, never a 500
            log.exception("dmn: unexpected error while checking a table with process %s", process.key)
            problems.append(Problem("process", Msg("process %(process)s: the table could not be checked with it",
                                                   process=process.key)))
    return problems


def _ids_of(process: ProcessDefinition, key: str) -> set[str]:
    return {i for d in process.decisions if d.key == key for i in d.decision_ids}


@dataclass
class DmnDeployResult:
    decision: DecisionDefinition
    created: bool
    processes: list[ProcessDefinition]  # the new process versions pinned to it


class TableRefused(Invalid):
    """A table with errors: nothing deployed; ``problems`` name each rule and column."""

    code = "invalid_table"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("the decision table has errors; nothing was deployed")
        self.problems = problems


def deploy(key: str, dmn_xml: str, by: User) -> DmnDeployResult:
    """Check, then store the table as the document's next version and give every process whose
    latest version uses the document a new version pinned to it; committed, or nothing stored."""
    if not valid_key(key):
        raise Invalid(Msg("a DMN document's name ends in .dmn and holds letters, digits, '.', '_' or '-'"))
    problems = check(key, dmn_xml)
    if errors(problems):
        raise TableRefused(problems)
    users = processes_using(key)
    current = decisions.latest(key)
    try:
        if current is not None and current.sha256 == decisions.sha256(dmn_xml):
            return DmnDeployResult(current, False, [])
        stored = decisions.store(key, dmn_xml, by)
        new_versions = []
        for process in users:
            tables = dict(process.dmn_xml)
            tables[key] = dmn_xml
            result = definitions.deploy(process.bpmn_xml, tables, by=by, filename=f"{process.key}.bpmn")
            new_versions.append(result.definition)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("Someone deployed this table at the same moment; deploy again.") from None
    except (DefinitionError, SQLAlchemyError):
        db.session.rollback()
        raise
    return DmnDeployResult(stored, True, new_versions)
