"""Warnings shown to the person who decides: facts from outside the case
(the registry, other cases) that their decision should be made with.

A diagram names them: the process property ``startWarnings`` for the start
form (the starter is warned and confirms before the case is created) and the
task property ``warnings`` for a step (shown on the task page and in the API's
task). The process property ``startInfo`` names providers whose facts the start
form shows before anything is submitted (the leave balance), with nothing to
confirm. Each name is a provider a process family declares (``Family.warnings``);
a diagram may name its own family's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workflows.branch.models import User
from workflows.cases.models import HumanTask, ProcessInstance
from workflows.engine.dialect import TaskMeta
from workflows.engine.specs import BuiltDefinition
from workflows.errors import Msg


@dataclass
class Alert:
    kind: str
    message: Msg  # English, with its template and values, translated where it is shown
    details: dict[str, Any] = field(default_factory=dict)
    case_id: int | None = None  # the other case it refers to; linked only for readers who may open it

    def as_record(self) -> dict[str, Any]:
        """What the audit trail keeps of a warning someone confirmed."""
        return {"kind": self.kind, "template": self.message.template,
                "params": {k: str(v) for k, v in self.message.params.items()}}


@dataclass
class AlertSource:
    data: dict[str, Any]
    applicant: User
    instance: ProcessInstance | None = None  # None on the start form: no case yet


Provider = Callable[[AlertSource], list[Alert]]


def providers(process_key: str) -> dict[str, Provider]:
    """The warnings a diagram of this process may name: its family's."""
    from workflows import processes

    return processes.warnings_for(process_key)


def unknown_names(built: BuiltDefinition) -> list[tuple[str, str]]:
    """(element id, name) of every warning a diagram names that no family provides."""
    known = providers(built.key)
    found = [(built.meta.process_id, n) for n in built.meta.start_warnings + built.meta.start_info]
    for task_id, meta in built.meta.tasks.items():
        found.extend((task_id, n) for n in meta.warnings)
    return [(element, n) for element, n in found if n not in known]


def _run(process_key: str, wanted: tuple[str, ...], source: AlertSource) -> list[Alert]:
    known = providers(process_key)
    out: list[Alert] = []
    for name in wanted:
        provider = known.get(name)
        if provider is not None:
            out.extend(provider(source))
    return out


def for_start(built: BuiltDefinition, data: dict[str, Any], applicant: User) -> list[Alert]:
    """Warnings on the start form; ``applicant`` is the case's subject, else its starter."""
    return _run(built.key, built.meta.start_warnings, AlertSource(data, applicant))


def info_for_start(built: BuiltDefinition, starter: User) -> list[Alert]:
    """Facts the start form shows before the starter fills it in (``startInfo``): no data yet."""
    return _run(built.key, built.meta.start_info, AlertSource({}, starter))


def for_task(task: HumanTask, meta: TaskMeta, data: dict[str, Any]) -> list[Alert]:
    instance = task.instance
    applicant = instance.subject_user or instance.started_by
    return _run(instance.process_key, meta.warnings, AlertSource(data, applicant, instance))


def fingerprint(found: list[Alert]) -> str:
    """Names the warnings a person saw, so a confirmation covers those and no others."""
    text = "\n".join(sorted(str(a.message) for a in found))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
