"""The API's own description: the OpenAPI document and a page to browse it."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request

from .blueprint import bp


@bp.get("/openapi.json")
def openapi():
    from .openapi import spec

    return jsonify(spec(request.host_url.rstrip("/")))


@bp.get("/docs")
def docs():
    return render_template("api_docs.html")


PATHS: dict[str, Any] = {
    "/api/v1/openapi.json": {"get": {"operationId": "getOpenApiDocument",
        "summary": "This document", "security": [],
        "responses": {"200": {"description": "OpenAPI 3", "content": {"application/json": {
            "schema": {"type": "object"}}}}}}},
    "/api/v1/docs": {"get": {"operationId": "getApiDocs",
        "summary": "Browsable documentation", "security": [],
        "responses": {"200": {"description": "HTML", "content": {"text/html": {
            "schema": {"type": "string"}}}}}}},
}
SCHEMAS: dict[str, Any] = {}
