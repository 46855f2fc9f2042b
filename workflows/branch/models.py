"""The branch's own tables: organisation, people and roles, API tokens, recorded violations."""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.db import db
from workflows.engine import clock

UNIT_KINDS = ("branch", "department", "region", "outlet", "team")


class OrgUnit(db.Model):
    """A node of the organisation tree: branch → department → region → outlet → team."""

    __tablename__ = "org_unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", use_alter=True))

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(back_populates="parent", order_by="OrgUnit.id")
    leader: Mapped[User | None] = relationship(foreign_keys=[leader_id], post_update=True)

    def ancestors(self) -> list[OrgUnit]:
        """This unit and every unit above it, nearest first."""
        chain: list[OrgUnit] = []
        node: OrgUnit | None = self
        while node is not None and len(chain) < 20:
            chain.append(node)
            node = node.parent
        return chain


class Role(db.Model):
    __tablename__ = "role"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))


class UserRole(db.Model):
    __tablename__ = "user_role"
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    role_key: Mapped[str] = mapped_column(ForeignKey("role.key"), primary_key=True)


class User(UserMixin, db.Model):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[unit_id])
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> set[str]:
        return {r.role_key for r in self.role_rows}

    def has_role(self, *keys: str) -> bool:
        return bool(self.roles & set(keys))

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active


class Violation(db.Model):
    """A recorded breach of the rules (e.g. a form not signed by the client)."""

    __tablename__ = "violation"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    detail: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    staff: Mapped[User | None] = relationship(foreign_keys=[staff_id])


class ApiToken(db.Model):
    """A personal API token; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


class StoredSetting(db.Model):
    """An administrator's value for a setting a family declares (absent: its default applies)."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # canonical text, typed by the declaration on reading
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class SettingChange(db.Model):
    """Append-only history of setting changes: who, when, the old and the new value."""

    __tablename__ = "setting_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), index=True)
    old_value: Mapped[str | None] = mapped_column(Text)  # None: the declared default was in force
    new_value: Mapped[str] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)
    via: Mapped[str] = mapped_column(String(10), default="web")

    changed_by: Mapped[User | None] = relationship()


class CalendarDay(db.Model):
    """A day that breaks the Monday–Friday rule: a public holiday on a weekday (``working`` false)
    or a make-up working day on a weekend (调休, ``working`` true). Every other day follows the rule."""

    __tablename__ = "calendar_day"
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    working: Mapped[bool]
    name: Mapped[str] = mapped_column(String(60), default="")  # "国庆节 National Day"
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class CalendarChange(db.Model):
    """Append-only history of calendar edits: who replaced which year's exceptions, old and new (JSON)."""

    __tablename__ = "calendar_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    old_days: Mapped[str] = mapped_column(Text)  # JSON list of {"date", "working", "name"}
    new_days: Mapped[str] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    via: Mapped[str] = mapped_column(String(10), default="web")
