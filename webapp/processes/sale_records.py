"""Customers, products and advisors' qualifications for wealth sales: admin pages and CSV import."""

from __future__ import annotations

from .page import NavEntry

NAV: tuple[NavEntry, ...] = ()
