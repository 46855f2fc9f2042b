"""Each process family's own pages, one module each; the factory registers PAGES."""

from __future__ import annotations

from flask import Blueprint

from . import ownership

PAGES: tuple[Blueprint, ...] = (ownership.bp,)
