"""The client registry: which staff member a client belongs to, from when (Process A)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.branch.models import User
from workflows.db import db
from workflows.engine import clock


class ClientOwnership(db.Model):
    """The client registry: which staff member a client belongs to, from when."""

    __tablename__ = "client_ownership"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_name: Mapped[str] = mapped_column(String(100))
    client_id_number: Mapped[str] = mapped_column(String(40), index=True)
    client_phone: Mapped[str | None] = mapped_column(String(40))
    account_no: Mapped[str | None] = mapped_column(String(40))
    staff_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    effective_date: Mapped[dt.date]
    institutional: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="active")
    archive_ref: Mapped[str | None] = mapped_column(String(80))
    # indexed: verify reads the entries of each batch of cases by it (without, a scan of the registry per batch)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    note: Mapped[str | None] = mapped_column(Text)

    staff: Mapped[User] = relationship(foreign_keys=[staff_id])
