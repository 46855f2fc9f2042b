"""What a leave costs (第二十八、三十条): the pure rule, and the days it is applied to."""

from __future__ import annotations

from decimal import Decimal

import pytest

from workflows.processes.leave.costs import leave_costs


@pytest.mark.parametrize(("days", "deduction", "score"), [
    ("3", "0", "-15"), ("4", "4", "-20"), ("20", "20", "-100"),  # the acceptance figures
    ("0.5", "0", "-2.5"), ("3.5", "3.5", "-17.5"), ("25", "25", "-125"),  # a half day; beyond a month still every day
])
def test_sick_leave_is_free_up_to_three_days_then_every_day(days: str, deduction: str, score: str) -> None:
    costs = leave_costs("sick", Decimal(days))
    assert (costs.pay_deduction_days, costs.score) == (Decimal(deduction), Decimal(score))


@pytest.mark.parametrize(("days", "deduction", "score"), [("1", "1", "-10"), ("0.5", "0.5", "-5"),
                                                          ("20", "20", "-200")])
def test_personal_leave_costs_every_day_and_ten_points_a_day(days: str, deduction: str, score: str) -> None:
    costs = leave_costs("personal", Decimal(days))
    assert (costs.pay_deduction_days, costs.score) == (Decimal(deduction), Decimal(score))


def test_work_injury_costs_nothing() -> None:
    costs = leave_costs("work_injury", Decimal(30))
    assert (costs.pay_deduction_days, costs.score) == (Decimal(0), Decimal(0))


def test_an_unknown_kind_or_negative_days_is_a_mistake() -> None:
    with pytest.raises(ValueError):
        leave_costs("holiday", Decimal(1))
    with pytest.raises(ValueError):
        leave_costs("sick", Decimal(-1))
