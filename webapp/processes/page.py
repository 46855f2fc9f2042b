"""What a family's page module declares: its blueprint and its navigation entries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
