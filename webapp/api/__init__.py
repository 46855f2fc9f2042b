"""The JSON API under /api/v1: token-authenticated, described by OpenAPI 3.

One module per area registers its views on ``bp`` and describes them (``PATHS``,
``SCHEMAS``); ``openapi.MODULES`` lists them. A process family adds its own module through its
page declaration (``webapp.processes.Page.api``), without the platform naming it.
"""

# they register their views
from . import bulk, calendar, decisions, directory, docs, forms, instances, processes, records, search, settings, tasks  # noqa: F401, E501
from .blueprint import bp

__all__ = ["bp"]
