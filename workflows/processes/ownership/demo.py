"""Sample client registrations for the demo branch, at different steps, so the inbox is not empty."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from workflows.branch.models import User
from workflows.db import db
from workflows.engine import clock
from workflows.processes.ownership.rules import PROCESS_KEY


def sample_cases() -> None:
    from workflows.cases import commands
    from workflows.cases.definitions import latest

    if latest(PROCESS_KEY, required=False) is None:
        return
    people = {u.username: u for u in db.session.scalars(select(User))}
    start = clock.today() + dt.timedelta(days=3)
    samples = [("staff01", "林晓峰", "440301199001011234", "13800138001", "250000"),
               ("staff02", "黄丽华", "440301198505052345", "13900139002", "800000"),
               ("staff05", "深圳市前海投资有限公司", "91440300MA5F000001", "0755-88886666", "5000000")]
    for username, client, id_no, phone, assets in samples:
        commands.start_case(PROCESS_KEY, people[username], {
            "client_name": client, "client_id_number": id_no, "client_phone": phone,
            "estimated_assets": assets, "planned_open_date": start.isoformat(), "outlet": "工商银行一11网点",
            "accompany": "true", "institutional": "true" if "公司" in client else "false",
        }, via="seed")
