"""Customers, products and advisors' qualifications in the API (/api/v1/customers, /api/v1/products)."""

from __future__ import annotations

from typing import Any

SCHEMAS: dict[str, Any] = {}
PATHS: dict[str, Any] = {}
