"""DMN documents as versioned definitions beside the BPMN, and the one rule for which of
them a diagram uses.

The rule: a diagram uses the documents that define a decision one of its business rule tasks
names in ``decisionRef``, and no other. Documents handed in with the diagram (a library folder,
an upload) come first; a decision none of them defines is taken from the latest deployed
version of the document that defines it. A deployed process version pins the exact decision
versions it was built with, so a running case keeps evaluating the tables it started with
while later cases use the new ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from lxml import etree
from sqlalchemy import func, select

from workflows.branch.models import User
from workflows.cases.models import DecisionDefinition
from workflows.db import db
from workflows.engine.xml import DefinitionError, parse_xml

__all__ = ["defined_ids", "for_diagram", "latest", "latest_all", "referenced_ids", "sha256", "store", "used_by"]


def referenced_ids(bpmn_xml: str, filename: str = "process.bpmn") -> set[str]:
    """The decisions a diagram's business rule tasks name (``camunda:decisionRef``)."""
    root = parse_xml(bpmn_xml, filename)
    return {value.strip() for node in root.iter() if isinstance(node.tag, str)
            for name, value in node.attrib.items() if etree.QName(name).localname == "decisionRef" and value.strip()}


def defined_ids(dmn_xml: str, name: str) -> list[str]:
    """The ids of the decisions a DMN document defines, in document order."""
    root = parse_xml(dmn_xml, name)
    if etree.QName(root).localname != "definitions":
        raise DefinitionError("root element must be the DMN definitions", filename=name)
    return [child.get("id", "") for child in root
            if isinstance(child.tag, str) and etree.QName(child).localname == "decision" and child.get("id")]


def used_by(bpmn_xml: str, documents: Mapping[str, str], filename: str = "process.bpmn") -> dict[str, str]:
    """The documents, among ``documents`` (name -> DMN XML), that the diagram uses."""
    return _choose(referenced_ids(bpmn_xml, filename), documents.items())[0]


def for_diagram(bpmn_xml: str, given: Mapping[str, str] | None = None,
                filename: str = "process.bpmn") -> dict[str, str]:
    """Everything the diagram uses: the documents handed in first, then deployed ones."""
    wanted = referenced_ids(bpmn_xml, filename)
    chosen, missing = _choose(wanted, (given or {}).items())
    if missing:
        from_db, _ = _choose(missing, ((d.key, d.dmn_xml) for d in latest_all()
                                       if d.key not in chosen and missing & set(d.decision_ids)))
        chosen.update(from_db)
    return chosen


def _choose(wanted: set[str], documents: Iterable[tuple[str, str]]) -> tuple[dict[str, str], set[str]]:
    """(the documents defining a wanted decision, the wanted decisions none of them defines)."""
    chosen: dict[str, str] = {}
    where: dict[str, str] = {}
    for name, xml in documents:
        for decision in defined_ids(xml, name):
            if decision not in wanted:
                continue
            if decision in where and where[decision] != name:
                raise DefinitionError(f"decision '{decision}' is defined in both {where[decision]} and {name}",
                                      filename=name)
            where[decision] = name
            chosen[name] = xml
    return chosen, wanted - set(where)


def sha256(dmn_xml: str) -> str:
    return hashlib.sha256(dmn_xml.encode("utf-8")).hexdigest()


def latest(key: str) -> DecisionDefinition | None:
    return db.session.scalars(select(DecisionDefinition).where(DecisionDefinition.key == key)
                              .order_by(DecisionDefinition.version.desc())).first()


def latest_all() -> list[DecisionDefinition]:
    """The newest version of every deployed DMN document."""
    newest = (select(DecisionDefinition.key, func.max(DecisionDefinition.version).label("v"))
              .group_by(DecisionDefinition.key).subquery())
    return list(db.session.scalars(
        select(DecisionDefinition).join(newest, (DecisionDefinition.key == newest.c.key)
                                        & (DecisionDefinition.version == newest.c.v))
        .order_by(DecisionDefinition.key)))


def store(key: str, dmn_xml: str, by: User | None = None) -> DecisionDefinition:
    """The latest version of this document if its text is unchanged, else a new version.
    Call only after the diagram using it passed its checks."""
    digest = sha256(dmn_xml)
    current = latest(key)
    if current is not None and current.sha256 == digest:
        return current
    found = DecisionDefinition(key=key, version=(current.version + 1) if current else 1,
                               decision_ids=defined_ids(dmn_xml, key), dmn_xml=dmn_xml, sha256=digest,
                               deployed_by_id=by.id if by else None)
    db.session.add(found)
    db.session.flush()
    return found
