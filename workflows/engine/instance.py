"""SpiffWorkflow behind one façade: :class:`Engine` builds and caches specs per deployed
version and makes or loads :class:`Instance` objects; an Instance runs its workflow and
answers what the rest of the product asks (ready user tasks, path, outcome, data, timers).
Nothing outside ``workflows.engine`` imports SpiffWorkflow.

After every run, loops ("send back" → resubmit) are folded back onto the earlier task so
the live task tree never grows with rework; the audit log keeps the history.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from workflows.engine import specs
from workflows.engine.sandbox import RestrictedScriptEngine
from workflows.engine.specs import BuiltDefinition

EngineError = SpiffWorkflowException  # what running a diagram raises when the diagram fails; first line says why
Functions = Mapping[str, Callable[..., Any]]  # name -> function a diagram may call, bound to its case
OnTask = Callable[[Any], None]  # told of the engine task about to run (functions act on its data)

TIMER_EVENTS = frozenset({"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"})
_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


class ScriptEngine(RestrictedScriptEngine):
    """The restricted engine with the functions a case's diagrams may call, and a log of
    the DMN decisions taken while running (see specs.RecordingDMNEngine)."""

    def __init__(self, functions: Functions | None = None) -> None:
        super().__init__(functions)
        self.decisions: list[dict[str, Any]] = []


@dataclass
class _Cached:
    sha256: str
    built: BuiltDefinition


class Engine:
    """Specs of deployed versions, built once per process, and the instances that run them."""

    def __init__(self) -> None:
        self._specs: dict[int, _Cached] = {}

    def forget(self) -> None:
        """Drop every cached spec, as a restart would (specs are built again from the database)."""
        self._specs.clear()

    def cached(self, version_id: int, sha256: str) -> BuiltDefinition | None:
        """The built spec of a version, if this process has built it already."""
        hit = self._specs.get(version_id)
        return hit.built if hit is not None and hit.sha256 == sha256 else None

    def spec(self, version_id: int, sha256: str, bpmn_xml: str, dmn_xml: dict[str, str]) -> BuiltDefinition:
        """The built spec of one deployed version (a version never changes: ``sha256`` proves it)."""
        built = self.cached(version_id, sha256)
        if built is None:
            built = specs.build(bpmn_xml, dmn_xml)
            self._specs[version_id] = _Cached(sha256, built)
        return built

    def new(self, built: BuiltDefinition, data: dict[str, Any], functions: Functions | None = None,
            on_task: OnTask | None = None) -> Instance:
        """A fresh instance whose start event carries ``data``; nothing has run yet."""
        wf = BpmnWorkflow(built.spec, built.subprocess_specs, script_engine=ScriptEngine(functions))
        wf.task_tree.data.update(deepcopy(data))
        start = wf.get_next_task(state=TaskState.READY)
        if start is not None:
            start.data.update(deepcopy(data))
        return Instance(built, wf, on_task)

    def load(self, built: BuiltDefinition, state: str, functions: Functions | None = None,
             on_task: OnTask | None = None) -> Instance:
        """A saved instance, with the restricted engine (and ``functions``) attached again."""
        return Instance(built, specs.deserialize(built, state, ScriptEngine(functions)), on_task)


class UserTask:
    """A user task of an instance: its engine id, its diagram id and its data (read, never mutate)."""

    __slots__ = ("_task",)

    def __init__(self, task: Any) -> None:
        self._task = task

    @property
    def id(self) -> str:
        return str(self._task.id)

    @property
    def spec_id(self) -> str:
        return self._task.task_spec.bpmn_id

    @property
    def data(self) -> dict[str, Any]:
        return self._task.data

    @property
    def ready(self) -> bool:
        return self._task.has_state(TaskState.READY)


class Instance:
    """One running workflow (the spiff-example-cli shape): read it, run it, save it."""

    __slots__ = ("built", "workflow", "_on_task")

    def __init__(self, built: BuiltDefinition, workflow: BpmnWorkflow, on_task: OnTask | None = None) -> None:
        self.built = built
        self.workflow = workflow
        self._on_task = on_task

    # --- reading ----------------------------------------------------------------

    @property
    def completed(self) -> bool:
        return bool(self.workflow.completed)

    @property
    def decisions(self) -> list[dict[str, Any]]:
        """The DMN decisions taken since this instance was made or loaded."""
        return getattr(self.workflow.script_engine, "decisions", [])

    def ready_tasks(self) -> list[UserTask]:
        """User tasks waiting for a person now."""
        return [UserTask(t) for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)]

    def task(self, task_id: str) -> UserTask | None:
        """A user task by its engine id, whatever its state (None when unknown or not a user task)."""
        try:
            found = self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, KeyError, SpiffWorkflowException):
            return None
        return UserTask(found) if found is not None and found.task_spec.manual else None

    def outcome(self) -> str | None:
        """The id of the end event the case finished at (the latest, if several)."""
        ends = [t for t in self.workflow.get_tasks(state=TaskState.COMPLETED) if isinstance(t.task_spec, EndEvent)]
        if not ends:
            return None
        return max(ends, key=lambda t: t.last_state_change).task_spec.bpmn_id[:40]

    def data(self) -> dict[str, Any]:
        """The case's current data: the workflow's, overlaid with the most recent task's."""
        wf = self.workflow
        tasks = wf.get_tasks(state=TaskState.READY | TaskState.WAITING) or wf.get_tasks(state=TaskState.COMPLETED)
        if not tasks:
            return dict(wf.data)
        latest = max(tasks, key=lambda t: t.last_state_change)
        return {**wf.data, **latest.data}

    def path(self) -> tuple[set[str], set[str]]:
        """Diagram ids of the elements completed in the live tree, and of those waiting now."""
        wf = self.workflow
        done = {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id}
        active = {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY | TaskState.WAITING)
                  if t.task_spec.bpmn_id}
        return done, active

    def next_timer_at(self) -> datetime | None:
        """The earliest moment a waiting timer is due (naive UTC)."""
        due: list[datetime] = []
        for event in self.workflow.waiting_events():
            # TimeDateEventDefinition (a timeDate) has no "Timer" in its name: it was skipped, so a
            # timeDate timer (working_days_later) never reached the sweeper
            if event.event_type not in TIMER_EVENTS or event.value is None:
                continue
            value = event.value
            try:
                moment = datetime.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                moment = None
            if moment is not None:
                if moment.tzinfo is not None:
                    moment = moment.astimezone(UTC).replace(tzinfo=None)
                due.append(moment)
        return min(due) if due else None

    # --- running ----------------------------------------------------------------

    def run_task(self, task: UserTask, data: Mapping[str, Any]) -> None:
        """Complete a user task with ``data`` added as new values (the old dict is not mutated)."""
        spiff_task = task._task
        spiff_task.data = {**spiff_task.data, **data}
        if self._on_task is not None:
            self._on_task(spiff_task)
        spiff_task.run()

    def run(self) -> list[str]:
        """Run engine steps until people or timers are needed, folding loops; returns the diagram
        ids of the automatic steps completed, in order."""
        path: list[str] = []

        def did_complete(task: Any) -> None:
            spec = task.task_spec
            if getattr(spec, "bpmn_id", None) and not spec.manual:
                path.append(spec.bpmn_id)

        self._steps(did_complete)
        for _ in range(50):
            if not self._fold_one_loop():
                break
            self._steps(did_complete)
        return path

    def refresh_timers(self) -> list[tuple[str, str | None]]:
        """Fire the timers that are due; returns (diagram id, name) of each one fired. Call :meth:`run` next."""
        wf = self.workflow
        waiting = {t.id for t in wf.get_tasks(state=TaskState.WAITING)}
        wf.refresh_timers()
        return [(t.task_spec.bpmn_id, t.task_spec.bpmn_name)
                for t in wf.get_tasks(state=TaskState.READY | TaskState.COMPLETED) if t.id in waiting]

    def save(self) -> str:
        """The serialized state (without the spec, which is kept per version)."""
        return specs.serialize(self.workflow)

    # --- loop folding -------------------------------------------------------------

    def _steps(self, did_complete: Callable[[Any], None]) -> None:
        self.workflow.do_engine_steps(will_complete_task=self._on_task, did_complete_task=did_complete)

    def _fold_one_loop(self) -> bool:
        wf = self.workflow
        for task in wf.get_tasks(state=TaskState.READY | TaskState.WAITING):
            earlier = _earlier_run_of(task)
            if earlier is None or not _only_branch(earlier, task):
                continue
            removed = wf.reset_from_task_id(earlier.id, data=deepcopy(task.data))
            removed_ids = {t.id for t in removed}
            for tid in list(wf.event_manager.tasks):
                if tid in removed_ids or tid not in wf.tasks:
                    wf.event_manager.tasks.pop(tid, None)
            return True
        return False


def _earlier_run_of(task: Any) -> Any:
    node = task.parent
    while node is not None:
        if node.task_spec is task.task_spec and node.has_state(TaskState.COMPLETED):
            return node
        node = node.parent
    return None


def _only_branch(earlier: Any, task: Any) -> bool:
    """True when nothing else is alive below ``earlier`` but ``task`` (and its boundary events)."""
    siblings = set(task.parent.children) if task.parent is not None else {task}
    allowed = set()
    for sib in siblings:
        allowed.update(sib)  # a sibling and its descendants (boundary timers)
    for node in earlier:
        if node is earlier or node in allowed:
            continue
        if node.has_state(_LIVE) and not _is_ancestor(node, task):
            return False
    return True


def _is_ancestor(node: Any, task: Any) -> bool:
    parent = task.parent
    while parent is not None:
        if parent is node:
            return True
        parent = parent.parent
    return False
