"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json: each view module
describes its own operations (``PATHS``, ``SCHEMAS``); this puts them together."""

from __future__ import annotations

from typing import Any

from ..processes import api_modules
from . import bulk, directory, docs, forms, instances, processes, records, schema, search, settings, tasks

MODULES = (processes, forms, tasks, bulk, instances, search, records, directory, settings, docs)


def spec(server: str) -> dict[str, Any]:
    schemas: dict[str, Any] = dict(schema.SCHEMAS)
    paths: dict[str, Any] = {}
    for module in (*MODULES, *api_modules()):  # the platform's areas, then each family's
        schemas.update(module.SCHEMAS)
        paths.update(module.PATHS)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Branch approvals API", "version": "1.0",
                 "description": "Token-authenticated access to processes, tasks and cases. Tokens are issued on "
                                "the profile page or with `flask tokens issue`. Actions go through the same rules "
                                "and audit trail as the web pages, marked `via: api`."},
        "servers": [{"url": server}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": schemas},
        "paths": paths,
    }
