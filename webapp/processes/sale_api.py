"""The wealth-sale family's part of /api/v1 (plugged in by its page declaration, ``Page.api``): the
customer, product and qualification records and the sale register, each module describing its own paths."""

from __future__ import annotations

from typing import Any

from . import sale_records_api, sale_register_api

PATHS: dict[str, Any] = {**sale_records_api.PATHS, **sale_register_api.PATHS}
SCHEMAS: dict[str, Any] = {**sale_records_api.SCHEMAS, **sale_register_api.SCHEMAS}
