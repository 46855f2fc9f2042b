"""What a family's page module declares: its blueprint, its navigation entries, and its API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from flask import Blueprint


@dataclass(frozen=True)
class NavEntry:
    endpoint: str  # url_for target
    label: Any  # a lazy_gettext string
    nav_id: str  # data-nav, for tests and the current-page highlight
    visible: Callable[[Any], bool]  # from the family's access rule: the page would refuse the others


@dataclass(frozen=True)
class Page:
    bp: Blueprint
    nav: tuple[NavEntry, ...] = field(default_factory=tuple)
    # The family's part of /api/v1: a module whose views are on the API blueprint (``webapp.api.bp``,
    # registered when it is imported) and which describes them in ``PATHS`` and ``SCHEMAS``, as the
    # platform's API modules do; the OpenAPI document includes them.
    api: ModuleType | None = None
