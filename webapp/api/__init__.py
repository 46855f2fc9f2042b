"""The JSON API under /api/v1: token-authenticated, described by OpenAPI 3.

One module per area registers its views on ``bp`` and describes them (``PATHS``,
``SCHEMAS``); ``openapi.MODULES`` lists them.
"""

from . import bulk, docs, instances, processes, settings, tasks  # noqa: F401 - they register their views
from .blueprint import bp

__all__ = ["bp"]
