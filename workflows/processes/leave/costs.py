"""What a leave costs (第二十八、三十条): the pay deduction in days and the management-score effect.

Pure arithmetic over the working days of a request, so the rule is tested on its own and the
ledger entry, the case page and the API say the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

SICK_FREE_DAYS = Decimal(3)  # sick leave up to 3 days costs no pay
SCORE_PER_DAY = {"personal": Decimal(-10), "sick": Decimal(-5), "work_injury": Decimal(0)}


@dataclass(frozen=True)
class Costs:
    pay_deduction_days: Decimal
    score: Decimal  # ≤ 0; a half sick day costs −2.5


def leave_costs(kind: str, days: Decimal) -> Costs:
    """Personal leave: every day's pay, −10 per day. Sick leave: none up to 3 days, every day when
    more than 3 (up to a month, and beyond it still every day), −5 per day. Work injury: nothing."""
    if kind not in SCORE_PER_DAY:
        raise ValueError(f"unknown leave type {kind!r}")
    days = Decimal(days)
    if days < 0:
        raise ValueError("days cannot be negative")
    if kind == "personal":
        deduction = days
    elif kind == "sick":
        deduction = days if days > SICK_FREE_DAYS else Decimal(0)
    else:
        deduction = Decimal(0)
    return Costs(deduction, SCORE_PER_DAY[kind] * days)
