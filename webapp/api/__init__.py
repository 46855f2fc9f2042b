"""The JSON API under /api/v1: token-authenticated, described by OpenAPI 3."""

from .routes import bp

__all__ = ["bp"]
