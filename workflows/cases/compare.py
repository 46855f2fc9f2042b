"""What the process designer's pages need besides HTTP: the DMN a diagram uses,
the versions of a process, what changed between two of them, and checking and
deploying a diagram with every failure answered as a refusal."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from workflows.branch.models import User
from workflows.cases import access, decisions, definitions
from workflows.cases.definitions import DeployResult, library_dmn, validate
from workflows.cases.models import ProcessDefinition
from workflows.db import db
from workflows.engine.dialect import extract_meta
from workflows.engine.specs import BuiltDefinition
from workflows.engine.xml import BPMN_NS, DefinitionError, parse_xml
from workflows.errors import Conflict, Msg, NotFound

__all__ = ["ElementChange", "FieldChange", "Unchecked", "VersionDiff", "check", "deploy", "diff_versions",
           "download_name", "element_id", "get_version", "neighbour", "note_refusal", "referenced_dmn",
           "safe_filename"]

log = logging.getLogger(__name__)

_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}\.bpmn")
_LABELLED = re.compile(r"\s*([^\s()]+)(?:\s+\(.*\))?\s*", re.DOTALL)
START_FORM = "#start"  # FieldChange.task of the start event's form ('#' is never part of an XML id)


def referenced_dmn(bpmn_xml: str, library: Path) -> dict[str, str]:
    """The .dmn files of the library folder whose decisions the diagram references."""
    try:
        decisions.referenced_ids(bpmn_xml)
    except DefinitionError:
        return {}  # the diagram itself is broken: validate() says so, naming its file
    return decisions.used_by(bpmn_xml, library_dmn(library))


def safe_filename(name: object, default: str = "diagram.bpmn") -> str:
    """A plain ``*.bpmn`` file name for error messages; anything else becomes ``default``."""
    if isinstance(name, str) and _FILENAME.fullmatch(name):
        return name
    return default


def download_name(key: str, version: int) -> str:
    """A file name for a Content-Disposition header: the key with anything unusual replaced."""
    return f"{re.sub(r'[^A-Za-z0-9_.-]', '_', key)[:80]}-v{version}.bpmn"


def element_id(label: str | None) -> str | None:
    """``"Task_X (Review)"`` -> ``"Task_X"``: the id inside a DefinitionError's element label."""
    if not label:
        return None
    match = _LABELLED.fullmatch(label)
    return match.group(1) if match else None


def get_version(key: str, version: int) -> ProcessDefinition:
    """One deployed version; NotFound when the process or version does not exist."""
    found = None
    if 0 < version < 2**31:  # what the column can hold
        found = db.session.scalars(select(ProcessDefinition).where(
            ProcessDefinition.key == key, ProcessDefinition.version == version)).first()
    if found is None:
        raise NotFound(Msg("no version %(version)s of process '%(key)s'", version=version, key=key))
    return found


def neighbour(versions: list[ProcessDefinition], version: int) -> ProcessDefinition | None:
    """The version to compare with: the one before ``version``, else the one after, else None."""
    before = [v for v in versions if v.version < version]
    after = [v for v in versions if v.version > version]
    if before:
        return max(before, key=lambda v: v.version)
    return min(after, key=lambda v: v.version) if after else None


@dataclass
class ElementChange:
    id: str
    kind: str
    name: str
    old_name: str = ""


@dataclass
class FieldChange:
    task: str  # task id, or START_FORM
    task_name: str
    field: str
    label: str

    @property
    def start_form(self) -> bool:
        return self.task == START_FORM


@dataclass
class VersionDiff:
    added: list[ElementChange] = field(default_factory=list)
    removed: list[ElementChange] = field(default_factory=list)
    renamed: list[ElementChange] = field(default_factory=list)
    fields_added: list[FieldChange] = field(default_factory=list)
    fields_removed: list[FieldChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.renamed or self.fields_added or self.fields_removed)

    def marked_old(self) -> list[str]:
        """Element ids to mark on the older diagram: removed or renamed."""
        return [e.id for e in self.removed + self.renamed]

    def marked_new(self) -> list[str]:
        """Element ids to mark on the newer diagram: added or renamed."""
        return [e.id for e in self.added + self.renamed]


def _elements(root: etree._Element, process_id: str) -> dict[str, tuple[str, str]]:
    """id -> (BPMN element kind, name) of every flow element of the process."""
    found: dict[str, tuple[str, str]] = {}
    for proc in root.iter(f"{{{BPMN_NS}}}process"):
        if proc.get("id") != process_id:
            continue
        for node in proc.iter(f"{{{BPMN_NS}}}*"):
            node_id = node.get("id")
            if node_id and node is not proc:
                found[node_id] = (etree.QName(node).localname, node.get("name") or "")
    return found


def _forms(xml: str, filename: str) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, dict[str, str]]]]:
    root = parse_xml(xml, filename)
    meta = extract_meta(root)
    forms = {START_FORM: ("", {f.id: f.label for f in meta.start_form})}
    forms.update({t.id: (t.name, {f.id: f.label for f in t.form}) for t in meta.tasks.values()})
    return _elements(root, meta.process_id), forms


def diff_versions(old_xml: str, new_xml: str) -> VersionDiff:
    """Elements added, removed and renamed, and form fields added or removed per task kept.

    Raises DefinitionError when either diagram cannot be read."""
    old_elements, old_forms = _forms(old_xml, "a.bpmn")
    new_elements, new_forms = _forms(new_xml, "b.bpmn")
    diff = VersionDiff()
    for node_id, (kind, name) in new_elements.items():
        if node_id not in old_elements:
            diff.added.append(ElementChange(node_id, kind, name))
        elif old_elements[node_id][1] != name:
            diff.renamed.append(ElementChange(node_id, kind, name, old_elements[node_id][1]))
    for node_id, (kind, name) in old_elements.items():
        if node_id not in new_elements:
            diff.removed.append(ElementChange(node_id, kind, name))
    for task_id in sorted(old_forms.keys() & new_forms.keys()):  # a task added or removed is listed above
        old_name, old_fields = old_forms[task_id]
        new_name, new_fields = new_forms[task_id]
        for field_id, label in new_fields.items():
            if field_id not in old_fields:
                diff.fields_added.append(FieldChange(task_id, new_name or old_name, field_id, label))
        for field_id, label in old_fields.items():
            if field_id not in new_fields:
                diff.fields_removed.append(FieldChange(task_id, old_name or new_name, field_id, label))
    return diff


# --- checking and deploying from the designer ----------------------------------------


class Unchecked(DefinitionError):
    """A diagram the checks themselves failed on (a parser bug on hostile input): refused like
    an invalid one, with a general message; the trace goes to the log, never to the browser."""

    MESSAGE = "The diagram could not be checked."

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


def check(xml: str, library: Path, filename: str) -> BuiltDefinition:
    """Validate a diagram (with the library's DMN it uses) as deploy would; any failure is a
    :class:`DefinitionError`."""
    try:
        return validate(xml, referenced_dmn(xml, library), filename)
    except DefinitionError:
        raise
    except Exception:  # noqa: BLE001 - a parser bug must not become a 500 on hostile input
        log.exception("designer: unexpected error while checking a diagram")
        raise Unchecked() from None


def deploy(xml: str, library: Path, by: User, filename: str) -> DeployResult:
    """Check and store the next version (with the library's DMN it uses), committed. Someone
    deploying the same process at the same moment is a :class:`Conflict`; a database failure is
    raised as it is (not the diagram's fault)."""
    try:
        result = definitions.deploy(xml, referenced_dmn(xml, library), by=by, filename=filename)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("Someone deployed this process at the same moment; deploy again.") from None
    except (DefinitionError, SQLAlchemyError):
        raise
    except Exception:  # noqa: BLE001 - see check()
        log.exception("designer: unexpected error while checking a diagram")
        raise Unchecked() from None
    return result


def note_refusal(user: User, action: str, xml_size: int, message: str, ip: str | None = None) -> None:
    """A refused diagram is written to the security log; nothing of it is stored."""
    db.session.rollback()
    access.log_event("deploy_refused", user=user, ip=ip, detail=f"{action} ({xml_size} bytes): {message}"[:2000])
