"""Admin-editable settings: each declared by a family with its default, typed and
bounded like a form field; every change is kept (who, when, old and new value).

A setting's key is ``<family>.<name>``. Reading one never fails: without an
administrator's value the declared default applies.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from workflows.branch.models import SettingChange, StoredSetting, User
from workflows.db import db
from workflows.engine.clock import now
from workflows.engine.dialect import FormField
from workflows.errors import Invalid, Msg, NotFound

log = logging.getLogger(__name__)

TYPES = ("long", "decimal", "boolean", "string", "enum")


@dataclass(frozen=True)
class Setting:
    """A value administrators may change; the family's code reads it with :func:`get`."""

    key: str  # "<family>.<name>"
    default: Any
    label: str  # an English msgid (write it as Msg("...") so it is extracted for translation)
    type: str = "long"  # long | decimal | boolean | string | enum
    min: str | None = None
    max: str | None = None
    options: tuple[tuple[str, str], ...] = ()  # enum: (value, label msgid)
    help: str = ""  # an English msgid shown under the field

    def as_field(self) -> FormField:
        constraints = {k: str(v) for k, v in (("min", self.min), ("max", self.max)) if v is not None}
        return FormField(id=self.key, label=self.label, type=self.type, required=True,
                         options=list(self.options), constraints=constraints,
                         minimum=Decimal(str(self.min)) if self.min is not None else None,
                         maximum=Decimal(str(self.max)) if self.max is not None else None)


@dataclass
class SettingView:
    """A setting as the admin page and the API show it."""

    setting: Setting
    family: str
    value: Any
    is_default: bool
    updated_at: dt.datetime | None = None
    updated_by: str | None = None
    history: list[SettingChange] = field(default_factory=list)


def declared() -> dict[str, tuple[str, Setting]]:
    """Every family's settings by key: (family key, declaration)."""
    from workflows import processes

    return {s.key: (f.key, s) for f in processes.families() for s in f.settings}


def find(key: str) -> tuple[str, Setting]:
    found = declared().get(key)
    if found is None:
        raise NotFound(Msg("no setting '%(key)s'", key=key[:80]))
    return found


def parse(setting: Setting, raw: Any) -> Any:
    """The typed value of ``raw`` (text from a form or JSON), or Invalid naming the setting."""
    from workflows.cases import forms

    text = ("true" if raw else "false") if isinstance(raw, bool) else ("" if raw is None else str(raw))
    clean, _ = forms.validate([setting.as_field()], {setting.key: text})
    return clean[setting.key]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def get(key: str) -> Any:
    """The value in force: the administrator's, else the declared default."""
    _, setting = find(key)
    stored = db.session.get(StoredSetting, key)
    if stored is None:
        return setting.default
    try:
        return parse(setting, stored.value)
    except Invalid:  # a declaration tightened since: the default is the safe value; say so in the log
        log.warning("setting %s holds %r, no longer valid; using the default", key, stored.value)
        return setting.default


def change(key: str, raw: Any, actor: User, *, via: str = "web") -> SettingChange | None:
    """Set a value and record the change in the same transaction; None when nothing changed.
    The caller checks the actor may administer and commits."""
    _, setting = find(key)
    value = parse(setting, raw)
    new = _text(value)
    stored = db.session.get(StoredSetting, key, with_for_update=True)
    old = stored.value if stored is not None else None
    if new == (old if old is not None else _text(setting.default)):
        return None
    at = now()
    if stored is None:
        db.session.add(StoredSetting(key=key, value=new, updated_at=at, updated_by_id=actor.id))
    else:
        stored.value, stored.updated_at, stored.updated_by_id = new, at, actor.id
    entry = SettingChange(key=key, old_value=old, new_value=new, changed_by_id=actor.id, changed_at=at, via=via)
    db.session.add(entry)
    db.session.flush()
    return entry


def save(key: str, raw: Any, actor: User, *, via: str = "web") -> SettingChange | None:
    """Change a setting in its own transaction (pages and API): all or nothing."""
    try:
        entry = change(key, raw, actor, via=via)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return entry


def history(key: str | None = None, limit: int = 200) -> list[SettingChange]:
    query = select(SettingChange).order_by(SettingChange.id.desc()).limit(limit)
    if key is not None:
        query = query.where(SettingChange.key == key)
    return list(db.session.scalars(query))


def overview(with_history: int = 5) -> list[SettingView]:
    """Every declared setting with the value in force and its latest changes."""
    stored = {s.key: s for s in db.session.scalars(select(StoredSetting))}
    users = {}
    views = []
    for key, (family, setting) in declared().items():
        row = stored.get(key)
        view = SettingView(setting, family, get(key) if row is not None else setting.default, row is None)
        if row is not None:
            view.updated_at = row.updated_at
            if row.updated_by_id is not None:
                user = users.get(row.updated_by_id) or db.session.get(User, row.updated_by_id)
                users[row.updated_by_id] = user
                view.updated_by = user.full_name if user else None
        view.history = history(key, with_history) if with_history else []
        views.append(view)
    return views
