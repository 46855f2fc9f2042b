"""Filters and globals for templates: masking, dates, names of roles and states."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any

from flask import Flask, g, has_request_context, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workflows import processes
from workflows.branch.roles import ROLES
from workflows.cases import access, forms
from workflows.engine.clock import local, now

ROLE_NAMES = {key: (zh, en) for key, zh, en in ROLES}

EVENT_LABELS = {
    "case_started": _l("Case started"), "task_created": _l("Task created"), "task_completed": _l("Task completed"),
    "task_claimed": _l("Task claimed"), "task_released": _l("Task released"), "task_cancelled": _l("Task closed"),
    "engine_steps": _l("Process moved on"), "decision": _l("Rule decided"), "case_completed": _l("Case closed"),
    "timer_fired": _l("Timer fired"), "timer_error": _l("Timer failed"), "task_escalated": _l("Task escalated"),
    "task_reminded": _l("Reminder sent"),
    "notice_sent": _l("Notice sent"), "violation_recorded": _l("Violation recorded"),
    "login": _l("Logged in"), "logout": _l("Logged out"),
    "login_failed": _l("Failed login"), "login_throttled": _l("Login slowed down"), "refused": _l("Refused"),
    "csrf_refused": _l("Forged request refused"), "record_viewed": _l("Whole record viewed"),
    "attachment_viewed": _l("Attachment viewed"),
    "deploy_refused": _l("Deployment refused"), "export": _l("Export"), "api_token_refused": _l("API token refused"),
    "roles_changed": _l("Roles changed"),
    "audit_sealed": _l("History sealed with the audit key"), "state_sealed": _l("Stored state sealed"),
    "audit_resealed": _l("Legacy histories sealed"),
}  # and each family's own (Family.labels), merged in event_label
STATUS_LABELS = {
    "running": _l("Running"), "completed": _l("Completed"), "open": _l("Open"), "cancelled": _l("Closed"),
}
UNIT_KIND_LABELS = {
    "branch": _l("Branch"), "department": _l("Project department"), "region": _l("Region"),
    "outlet": _l("Outlet"), "team": _l("Team"),
}


def event_label(key: str) -> str:
    """An event type or violation kind in the user's language: the platform's, else a family's."""
    if key in EVENT_LABELS:
        return str(EVENT_LABELS[key])
    own = processes.labels().get(key)
    return _(own) if own else key


def starter(instance: Any) -> str:
    """Who started a case: a person's name, or the system and what (a job, another case)."""
    if instance.started_by is not None:
        return str(instance.started_by.full_name)
    return _("System (%(origin)s)", origin=instance.origin) if instance.origin else _("System")


def status_label(key: str) -> str:
    """A status in the reader's language (once per request and status: a long case lists hundreds of tasks)."""
    if not has_request_context():
        return str(STATUS_LABELS.get(key, key))
    memo = g.setdefault("_status_labels", {})
    if key not in memo:
        memo[key] = str(STATUS_LABELS.get(key, key))
    return str(memo[key])


def unit_kind(key: str) -> str:
    return str(UNIT_KIND_LABELS.get(key, key))


def outcome_label(instance: Any) -> str:
    """The name of the end event the case reached, in the user's language."""
    if not instance.outcome:
        return ""
    from workflows.cases.definitions import built_for

    name = built_for(instance.definition).meta.end_events.get(instance.outcome, instance.outcome)
    return bilingual(name)


_NAME = r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}"
_NAMED = re.compile(rf"(\s*[（(]){_NAME}([)）])|{_NAME}")


def _lookup(ctx: dict[str, Any], dotted: str) -> Any:
    value: Any = ctx
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def option_label(label: str | None, ctx: dict[str, Any] | None = None) -> str:
    """An option as the user reads it: their language, then ``{name}`` placeholders
    filled from the case (``{initiator_name}``, ``{conflict.staff_name}``). Without a
    value, a placeholder and the brackets around it are left out."""
    text = bilingual(label)
    if "{" not in text:
        return text

    def fill(match: re.Match[str]) -> str:
        value = _lookup(ctx or {}, match.group(2) or match.group(4))
        if value in (None, "") or isinstance(value, (dict, list)):
            return ""
        return f"{match.group(1) or ''}{value}{match.group(3) or ''}"

    return _NAMED.sub(fill, text).strip()


def label_context(instance: Any, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Values option labels may name: the case's data and its people."""
    ctx = dict(data or {})
    ctx["initiator_name"] = instance.started_by.full_name if instance.started_by else ""
    subject = getattr(instance, "subject_user", None)
    ctx["subject_name"] = subject.full_name if subject is not None else ctx["initiator_name"]
    return ctx


def mask(value: Any, kind: str | None = None) -> str:
    """Mask ID-document and phone numbers: keep the first and last few characters."""
    text = "" if value is None else str(value)
    if not kind or len(text) < 5:
        return text if not kind else "*" * len(text)
    keep_head, keep_tail = (3, 4) if kind == "id" else (3, 2)
    return text[:keep_head] + "*" * max(0, len(text) - keep_head - keep_tail) + text[-keep_tail:]


def role_name(key: str) -> str:
    zh, en = ROLE_NAMES.get(key, (key, key))
    return zh if str(get_locale()).startswith("zh") else en


def bilingual(label: str | None) -> str:
    """Diagram labels are written 'Chinese English'; show the part for the locale."""
    if not label:
        return ""
    return _label_parts(str(label))[0 if _lang() == "zh" else 1]


@functools.lru_cache(maxsize=4096)
def _label_parts(label: str) -> tuple[str, str]:
    """(Chinese, English) of a diagram label, written 'Chinese English' or 'Chinese / English' (a DMN rule's
    description); the label twice when it is not written in both."""
    if " / " in label:
        zh, _, en = label.partition(" / ")
        if any("\u4e00" <= ch <= "\u9fff" for ch in zh) and not any("\u4e00" <= ch <= "\u9fff" for ch in en):
            return zh, en
    parts = label.split(" ", 1)
    if len(parts) == 2 and any("\u4e00" <= ch <= "\u9fff" for ch in parts[0]) and not any(
        "\u4e00" <= ch <= "\u9fff" for ch in parts[1]
    ):
        return parts[0], parts[1]
    return label, label


def label_format() -> Callable[[str | None], str]:
    """:func:`bilingual` with the reader's language looked up once, for a page of many labels."""
    index = 0 if _lang() == "zh" else 1
    return lambda label: _label_parts(str(label))[index] if label else ""


def url_maker(endpoint: str, key: str) -> Callable[[Any], str]:
    """``url_for(endpoint, key=value)`` for many values at the price of one: the URL is built once
    with a marker and the marker replaced (a page of fifty rows would otherwise build it fifty times)."""
    marker = "987654321987"
    pattern = url_for(endpoint, **{key: int(marker)})
    head, _, tail = pattern.partition(marker)
    return lambda value: f"{head}{value}{tail}"


# strftime patterns per language: as Babel writes them, without its per-call cost
# (an inbox page formats a hundred dates). Month names come from the C locale: English.
DATETIME_FORMAT = {"zh": "%Y年%m月%d日 %H:%M", "en": "%d %b %Y %H:%M"}
DATE_FORMAT = {"zh": "%Y年%m月%d日", "en": "%d %b %Y"}


def _lang() -> str:
    """The reader's language, looked up once per request (a long history asks a thousand times)."""
    if not has_request_context():
        return "zh" if str(get_locale()).startswith("zh") else "en"
    if "_lang" not in g:
        g._lang = "zh" if str(get_locale()).startswith("zh") else "en"
    return str(g._lang)


def when(value: dt.datetime | None) -> str:
    """UTC from the database shown in the branch's time zone, written for the user's language."""
    if value is None:
        return ""
    return local(value).strftime(DATETIME_FORMAT[_lang()])


def moment_format() -> Callable[[dt.datetime | None], str]:
    """:func:`when` with the reader's language looked up once, for a page of many moments."""
    pattern = DATETIME_FORMAT[_lang()]
    return lambda value: "" if value is None else local(value).strftime(pattern)


def day(value: Any) -> str:
    """A calendar date (date or ISO text) written for the user's language."""
    if value in (None, ""):
        return ""
    try:
        parsed = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return parsed.strftime(DATE_FORMAT[_lang()])


def amount(value: Any) -> str:
    """An amount in yuan: ¥1,234,567.00 (CN¥ in English), by the locale's rules."""
    from decimal import Decimal, InvalidOperation

    from flask_babel import format_currency

    try:
        return format_currency(Decimal(str(value)), "CNY")
    except (InvalidOperation, ValueError):
        return str(value)


def inbox_counts_for_request() -> dict[str, int]:
    """The signed-in user's inbox counts, computed once per request (and kept a few seconds)."""
    from flask import g

    from workflows.cases.counts_cache import counts_for
    from workflows.cases.inbox import counts

    if "inbox_counts" not in g:
        user = current_user._get_current_object()
        g.inbox_counts = counts_for(user.id, lambda: counts(user))
    return g.inbox_counts


def task_outcome(task: Any) -> str:
    """The decision a finished task recorded, as its button read (worked out once per request
    for each step and decision of a case: a long case lists hundreds of tasks)."""
    if not task.outcome or task.outcome == "completed":
        return ""
    if not has_request_context():
        return _task_outcome(task)
    memo = g.setdefault("_task_outcomes", {})
    key = (task.instance_id, task.spec_id, task.outcome)
    if key not in memo:
        memo[key] = _task_outcome(task)
    return str(memo[key])


def _task_outcome(task: Any) -> str:
    from workflows.cases.definitions import built_for

    meta = built_for(task.instance.definition).meta.tasks.get(task.spec_id)
    for ff in meta.form if meta else []:
        if ff.id == "decision":
            return option_label(dict(ff.options).get(task.outcome, task.outcome), label_context(task.instance))
    return task.outcome


def notice_text(notice: Any) -> str:
    """A notice in the reader's language when it was sent with a template."""
    if notice.template:
        from workflows.errors import Msg

        from .i18n import tr

        try:
            return tr(Msg(notice.template, **(notice.params or {})))
        except (KeyError, ValueError, TypeError):
            return notice.text
    return notice.text


def register(app: Flask) -> None:
    app.jinja_env.filters["mask"] = mask
    app.jinja_env.filters["role_name"] = role_name
    app.jinja_env.filters["bi"] = bilingual
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["amount"] = amount
    app.jinja_env.filters["event_label"] = event_label
    app.jinja_env.filters["starter"] = starter
    # what the navigation offers follows the same rules as the pages (workflows.access)
    app.jinja_env.globals.update(works_cases=access.works_cases, may_search_cases=access.may_search_cases,
                                 may_read_security_log=access.may_read_security_log,
                                 may_administer=access.may_administer, may_keep_calendar=access.may_keep_calendar,
                                 may_design=access.may_design, may_deploy=access.may_deploy)
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.filters["unit_kind"] = unit_kind
    app.jinja_env.filters["outcome_label"] = outcome_label
    app.jinja_env.filters["notice_text"] = notice_text
    app.jinja_env.filters["task_outcome"] = task_outcome
    app.jinja_env.filters["option_label"] = option_label
    app.jinja_env.filters["limits"] = forms.constraints  # the same limits the server checks

    @app.context_processor
    def _globals() -> dict[str, Any]:
        counts = None
        if current_user.is_authenticated:
            counts = inbox_counts_for_request()
        return {"now": now(), "inbox_counts": counts, "locale": str(get_locale()), "_": _,
                "moment_format": moment_format, "label_format": label_format, "url_maker": url_maker}
