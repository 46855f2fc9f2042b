"""The sale register in the API (/api/v1/sales)."""

from __future__ import annotations

from typing import Any

SCHEMAS: dict[str, Any] = {}
PATHS: dict[str, Any] = {}
