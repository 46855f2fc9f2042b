"""What a running case knows about the request that moves it: who, how, and
which engine task is executing, so diagram helpers can act and be audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflows.branch.models import User
from workflows.cases.models import ProcessInstance


@dataclass
class CaseContext:
    instance: ProcessInstance
    actor: User | None
    via: str = "web"
    task: Any = None  # the SpiffWorkflow task being run by the engine
    events: list[dict[str, Any]] = field(default_factory=list)  # audit events raised by helpers

    def data(self) -> dict[str, Any]:
        """The data of the engine task being run (empty outside a task)."""
        return self.task.data if self.task is not None else {}

    def note(self, type_: str, changes: dict[str, Any] | None = None, comment: str | None = None) -> None:
        spec = getattr(self.task, "task_spec", None)
        self.events.append({
            "type": type_, "changes": changes or {}, "comment": comment,
            "task_spec": getattr(spec, "bpmn_id", None) or getattr(spec, "name", None),
            "task_name": getattr(spec, "bpmn_name", None),
        })
