"""The case runtime's tables: definitions, cases, the inbox projection, attachments, the audit
trail, the security log and notices."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, LargeBinary, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.branch.models import User
from workflows.db import db
from workflows.engine import clock

# Which decision versions a process version was deployed with: fixed once written, so a case
# keeps the tables of the version it started on.
process_decision = Table(
    "process_decision", db.metadata,
    Column("process_definition_id", ForeignKey("process_definition.id"), primary_key=True),
    Column("decision_definition_id", ForeignKey("decision_definition.id"), primary_key=True, index=True),
)


class ProcessDefinition(db.Model):
    """One deployed version of a process: the BPMN source and the decision versions it pins."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)  # read only when the spec cache misses
    sha256: Mapped[str] = mapped_column(String(64))  # of the BPMN and the pinned DMN texts
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    deployed_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    deployed_by: Mapped[User | None] = relationship()
    decisions: Mapped[list[DecisionDefinition]] = relationship(secondary=process_decision,
                                                               order_by="DecisionDefinition.key")

    @property
    def dmn_xml(self) -> dict[str, str]:
        """The pinned DMN documents by name, as the spec is built from them."""
        return {d.key: d.dmn_xml for d in self.decisions}


class ProcessInstance(db.Model):
    """A case. ``state`` is the serialized workflow without its spec (kept per version).

    The search's indexes: newest first by start (all cases, one status, one process), the end, and the
    title (the client's name): a trigram GIN index on PostgreSQL (names containing a text), a
    plain one elsewhere (names starting with it). ``business_key`` is matched whole, by its own."""

    __tablename__ = "process_instance"
    # The head index: every case's head without reading its row (``state`` is kilobytes, stored before the
    # head): checkpoints every minute and the incremental audit verify read all heads.
    __table_args__ = (
        Index("ix_process_instance_head", "id", "audit_seq", "audit_hash"),
        # a person's cases newest first ("My cases", a page at a time): their newest starts without reading the rest
        Index("ix_process_instance_starter_newest", "started_by_id", "id"),
        Index("ix_process_instance_started", "started_at", "id"),
        Index("ix_process_instance_status_started", "status", "started_at", "id"),
        Index("ix_process_instance_process_started", "process_key", "started_at", "id"),
        Index("ix_process_instance_ended", "ended_at", "id"),
        Index("ix_process_instance_title", "title", postgresql_using="gin", postgresql_ops={"title": "gin_trgm_ops"}),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(80), index=True)
    title: Mapped[str] = mapped_column(String(300))
    business_key: Mapped[str | None] = mapped_column(String(120), index=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    outcome: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(Text, deferred=True)  # loaded only to run or show the engine
    version: Mapped[int] = mapped_column(default=1)
    audit_seq: Mapped[int] = mapped_column(default=0)
    audit_hash: Mapped[str | None] = mapped_column(String(64))
    next_timer_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: the system
    origin: Mapped[str | None] = mapped_column(String(80))  # what started it when no person did: "job:…", "case:…"
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    ended_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    definition: Mapped[ProcessDefinition] = relationship()
    started_by: Mapped[User | None] = relationship(foreign_keys=[started_by_id])
    subject_user: Mapped[User | None] = relationship(foreign_keys=[subject_user_id])

    # Optimistic locking: every UPDATE says "WHERE version = <the one I read>".
    __mapper_args__ = {"version_id_col": version}


OPEN_ROW = "state = 'open'"
NOT_OPEN_ROW = "state <> 'open'"
OPEN_UNOWNED = "state = 'open' AND assigned_user_id IS NULL AND claimed_by_id IS NULL"


class HumanTask(db.Model):
    """The inbox projection of one user task; the inbox never deserializes workflows."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_state_assignee", "state", "assigned_user_id"),
        Index("ix_human_task_state_claimed", "state", "claimed_by_id"),
        # Partial indexes on open rows (the inbox states 'open' as a constant in its SQL): they
        # grow with the open work, not with the years of finished tasks.
        Index("ix_human_task_open_unowned", "created_at", "id",
              sqlite_where=text(OPEN_UNOWNED), postgresql_where=text(OPEN_UNOWNED)),
        Index("ix_human_task_open_escalated", "escalated_to_id", "created_at",
              sqlite_where=text(OPEN_ROW), postgresql_where=text(OPEN_ROW)),
        Index("ix_human_task_completer", "completed_by_id", "completed_at"),  # the "done" view, newest first
        Index("ix_human_task_completer_case", "completed_by_id", "instance_id"),  # "My cases": the newest worked on
        # the cases a person took part in (search.visible_to): who was given or held a task that is no longer
        # open (the open ones are reached through the state-led indexes; the inbox's open queries never
        # name "state <> 'open'", so they cannot pick these and read the history)
        Index("ix_human_task_assignee_case", "assigned_user_id", "instance_id",
              sqlite_where=text(NOT_OPEN_ROW), postgresql_where=text(NOT_OPEN_ROW)),
        Index("ix_human_task_claimer_case", "claimed_by_id", "instance_id",
              sqlite_where=text(NOT_OPEN_ROW), postgresql_where=text(NOT_OPEN_ROW)),
        # only the rows that were escalated (statistics of an index of mostly NULLs made SQLite scan the table);
        # keyed on escalated_at so that only a query naming it uses this one, not the open inbox's counts
        Index("ix_human_task_escalated_case", "escalated_to_id", "instance_id",
              sqlite_where=text("escalated_at IS NOT NULL"), postgresql_where=text("escalated_at IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    spiff_task_id: Mapped[str] = mapped_column(String(36), index=True)
    spec_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(80))
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    bulk: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    due_at: Mapped[dt.datetime | None]
    escalated_at: Mapped[dt.datetime | None]
    escalated_to_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    completed_at: Mapped[dt.datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    outcome: Mapped[str | None] = mapped_column(String(40))

    instance: Mapped[ProcessInstance] = relationship()
    assigned_user: Mapped[User | None] = relationship(foreign_keys=[assigned_user_id])
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    escalated_to: Mapped[User | None] = relationship(foreign_keys=[escalated_to_id])
    candidates: Mapped[list[TaskCandidate]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    exclusions: Mapped[list[TaskExclusion]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def excluded_user_ids(self) -> set[int]:
        return {e.user_id for e in self.exclusions}


class TaskExclusion(db.Model):
    """Segregation of duties: a person who may not act on a task."""

    __tablename__ = "task_exclusion"
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)


class TaskCandidate(db.Model):
    """A group that may claim a task: a role, optionally limited to one org unit."""

    __tablename__ = "task_candidate"
    # role first: the groups' counts; task first: an open task probing its own candidates without
    # reading their rows (the inbox's EXISTS, an index-only scan).
    __table_args__ = (Index("ix_task_candidate_role_scope", "role_key", "scope_unit_id", "task_id"),
                      Index("ix_task_candidate_task_groups", "task_id", "role_key", "scope_unit_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    role_key: Mapped[str] = mapped_column(String(40))
    scope_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))


class AuditEvent(db.Model):
    """Append-only case history; ``hash`` chains each event to the previous one.

    ``hash`` is an HMAC under the audit key named by ``key_id`` (NULL: a legacy
    plain SHA-256 event from before keyed chains); ``state_digest``, set on the
    last event of each transaction, seals the case's state, status and outcome.
    """

    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("instance_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    seq: Mapped[int]
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(40))
    task_spec: Mapped[str | None] = mapped_column(String(120))
    task_name: Mapped[str | None] = mapped_column(String(200))
    human_task_id: Mapped[int | None]
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)
    via: Mapped[str] = mapped_column(String(10), default="web")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(40))
    state_digest: Mapped[str | None] = mapped_column(String(64))


class SecurityEvent(db.Model):
    """Logins, logouts and refused actions, for the security officer."""

    __tablename__ = "security_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    username: Mapped[str | None] = mapped_column(String(60), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class Attachment(db.Model):
    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    human_task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))
    field: Mapped[str | None] = mapped_column(String(80))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    uploaded_by: Mapped[User] = relationship()


class Notice(db.Model):
    """A message to a person (the product's e-mail-like notice)."""

    __tablename__ = "notice"
    # a person's newest first, stopping at the page: not every notice they ever had, then a sort
    __table_args__ = (Index("ix_notice_user_newest", "user_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    text: Mapped[str] = mapped_column(Text)  # English, as sent
    template: Mapped[str | None] = mapped_column(Text)  # msgid, for showing it in the reader's language
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    read_at: Mapped[dt.datetime | None]


class JobRun(db.Model):
    """One firing of a family's scheduled job for one period (a day, a month).

    The unique (job, period) row is inserted in the transaction that does the
    job's work: a second sweeper's insert waits for the first and then fails,
    so each period fires once however many sweepers run.
    """

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(80))
    period: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    result: Mapped[int] = mapped_column(default=0)  # what the job reports, e.g. cases started
class DecisionDefinition(db.Model):
    """One version of a DMN document (its decision tables), deployed beside the BPMN. ``key`` is
    the document's name (``suitability.dmn``); ``decision_ids`` are what a ``decisionRef`` names."""

    __tablename__ = "decision_definition"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int]
    decision_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    dmn_xml: Mapped[str] = mapped_column(Text, deferred=True)  # read only when a spec is built
    sha256: Mapped[str] = mapped_column(String(64))
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    deployed_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    deployed_by: Mapped[User | None] = relationship()
