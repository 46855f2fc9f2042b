"""The fixtures that change the shared branch put it back, so tests pass in any order."""

from __future__ import annotations

from tests.conftest import Grants, Leaders, user
from workflows.branch.org import relation
from workflows.db import db


def test_grant_gives_back_exactly_the_roles_held_before() -> None:
    grants = Grants()
    finance = user("finance")
    grants(finance, "gm")
    grants(finance, "finance_manager")  # already held: kept afterwards
    assert finance.roles == {"finance_manager", "gm"}
    finance.role_rows = []  # the test itself may take roles away too
    db.session.commit()
    grants.restore()
    db.session.expire_all()
    assert user("finance").roles == {"finance_manager"}


def test_lead_gives_each_unit_its_first_leader_back() -> None:
    leaders = Leaders()
    staff = user("staff03")
    region = staff.unit.parent.parent
    assert region.kind == "region" and region.leader.username == "region11"
    leaders(region, user("region22"))
    assert relation(staff, "regional_manager").username == "region22"
    leaders(region, None)  # a second change of the same unit still restores the first leader
    leaders.restore()
    db.session.expire_all()
    assert relation(user("staff03"), "regional_manager").username == "region11"
