"""Who may read the client registry: the family's own rule, used by its page and its navigation entry."""

from __future__ import annotations

from workflows.branch.models import User

REGISTRY_READERS = ("trading_manager", "finance_manager", "gm", "auditor", "project_director", "support")


def may_read_registry(user: User) -> bool:
    """The whole client registry and its violations; staff see their own clients only."""
    return user.has_role(*REGISTRY_READERS)


def may_open_registry(user: User) -> bool:
    """Whether the registry page has anything for this user (the whole registry, or one's own clients)."""
    return may_read_registry(user) or user.has_role("staff")
