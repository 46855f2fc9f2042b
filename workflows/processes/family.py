"""What a process family declares about itself: the one object the platform reads.

A family is a package under ``workflows/processes/``; its ``FAMILY`` lists the
processes it owns, the functions its diagrams may call, the labels of the
events and facts it records, its start checks, settings, scheduled jobs and
demo data. The platform reaches a family only through this declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.branch.models import User
from workflows.branch.settings import Setting
from workflows.cases.alerts import Provider
from workflows.cases.functions import FunctionTable
from workflows.cases.jobs import Job


@dataclass(frozen=True)
class StartRequest:
    """What a start check sees: no case exists yet."""

    process_key: str
    user: User | None  # None: started by the system (``origin`` says by what)
    data: dict[str, Any]  # the validated start form; a file field given holds {"filename": …}
    origin: str | None = None  # "job:<family>.<job>" or "case:<id>" when no person starts it


# Raises workflows.errors.Refused (a message with its figures) to refuse the start.
StartCheck = Callable[[StartRequest], None]


@dataclass(frozen=True)
class Family:
    key: str  # "ownership"
    process_keys: frozenset[str]  # BPMN process ids it owns
    functions: FunctionTable  # what its diagrams may call beyond the generic table
    labels: Mapping[str, str] = field(default_factory=dict)  # event types, violation kinds, change keys -> msgid
    warnings: Mapping[str, Provider] = field(default_factory=dict)  # names for startWarnings / warnings
    start_checks: tuple[StartCheck, ...] = ()
    settings: tuple[Setting, ...] = ()  # admin-editable values with defaults
    jobs: tuple[Job, ...] = ()  # run by the sweeper, once per period
    demo: Callable[[], None] | None = None  # sample cases for `flask seed demo`
    # `flask audit verify`: the family's records agree with a case's history (session, case, events, report,
    # rows); rows are what verify_rows(session, case ids) gave for the case: one query per batch of cases
    verify_records: Callable[..., None] | None = None
    verify_rows: Callable[..., Mapping[int, Any]] | None = None
    # who, beyond a case's participants and auditors, may open any case of the family (those who oversee
    # its register, e.g. the retail head over every sale); they read it masked, as participants do
    case_readers: Callable[[User], bool] | None = None
    # the stable codes its refusals carry (code -> meaning), listed in the API's Error schema beside the platform's
    error_codes: Mapping[str, str] = field(default_factory=dict)
    field_codes: Mapping[str, str] = field(default_factory=dict)
