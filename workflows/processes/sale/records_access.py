"""Who may read and keep the wealth-sale records (customers, products, advisors' qualifications): the
family's one rule, used by its pages, its API and its navigation. A refusal is logged once
(``workflows.cases.access.refuse``); a look at a whole customer record is logged too.

The records are the retail business's: the retail head (零售业务负责人, and the GM above them) keeps
them. The administrator runs the system and, as for case content (SPEC §1, least privilege), gets no
right to confidential customer data from that role. Advisors and the counter work with customers, so
they read the list and a customer's record, masked; auditors read everything and keep nothing.
"""

from __future__ import annotations

from typing import NoReturn

from workflows.branch.models import User
from workflows.cases import access

KEEPERS = ("retail_head", "gm")  # create, change, import, verify guardians, record and revoke qualifications
WORKERS = ("advisor", "counter")  # read the customer list and a customer's record, masked
AUDITORS = ("auditor",)


def may_keep(user: User) -> bool:
    return user.has_role(*KEEPERS)


def may_read(user: User) -> bool:
    """The customer list, a customer's record (masked), the products and the qualifications page."""
    return user.has_role(*KEEPERS, *WORKERS, *AUDITORS)


def may_see_whole(user: User) -> bool:
    """Whole ID and phone numbers and the guardian's document scan: the keepers and auditors (logged)."""
    return user.has_role(*KEEPERS, *AUDITORS)


def may_read_all_qualifications(user: User) -> bool:
    """Every advisor's qualification; an advisor sees their own only."""
    return user.has_role(*KEEPERS, *AUDITORS)


def require_read(user: User, path: str, ip: str | None) -> None:
    if not may_read(user):
        access.refuse(user, path, "only the retail head, advisors, the counter and auditors may open the wealth "
                                  "customer records", ip=ip)


def require_keep(user: User, path: str, ip: str | None) -> None:
    if not may_keep(user):
        access.refuse(user, path, "only the retail head (or the GM) may change the wealth customer records", ip=ip)


def refuse_whole(user: User, what: str, ip: str | None) -> NoReturn:
    access.refuse(user, f"{what} viewed whole", "only the retail head and auditors may see a customer's whole "
                                                "record", ip=ip)


def note_whole_view(user: User, what: str, ip: str | None) -> None:
    """Every look at a whole customer record (no case frames it) is written to the security log first."""
    access.log_event("record_viewed", user=user, ip=ip, detail=f"{what} viewed whole"[:300])
