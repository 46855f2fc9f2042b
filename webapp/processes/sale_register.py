"""The sale register: every finished high-risk-sale case, for the retail head and auditors."""

from __future__ import annotations

from .page import NavEntry

NAV: tuple[NavEntry, ...] = ()
