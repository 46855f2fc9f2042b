"""The wealth-sale family's pages: customers, products and qualifications (``sale_records``) and the sale
register (``sale_register``), on one blueprint; their API parts are gathered in ``sale_api``."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sale", __name__)

from . import sale_api, sale_records, sale_register  # noqa: E402 - they add their views to bp
from .page import Page  # noqa: E402

PAGE = Page(bp, nav=sale_records.NAV + sale_register.NAV, api=sale_api)
