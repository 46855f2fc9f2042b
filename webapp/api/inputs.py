"""Reading API requests: the JSON body, files in it, query parameters; a 422 naming what is wrong."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import request

from workflows.cases.forms import (
    CONTROL_CHARACTERS,
    NOT_A_FILE,
    NOT_A_WHOLE_NUMBER,
    NOT_YES_OR_NO,
    Upload,
    escaped,
    has_control_characters,
)
from workflows.errors import Invalid, Msg

MAX_JSON_DEPTH = 16
_TOO_DEEP = Msg("the JSON body may be nested at most %(n)s levels deep", n=MAX_JSON_DEPTH)
MAX_UPLOAD_B64 = 8 * 1024 * 1024
MAX_PER_PAGE = 200
_NESTED = Msg("nested too deeply", code="too_deep")
_NOT_AN_OBJECT = Msg("must be an object", code="not_an_object")


def payload() -> dict[str, Any]:
    """The request's JSON object (empty when there is no body), or a 422 naming what is wrong."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # Python's JSON parser recurses once per level: 990 levels exhaust the stack
        raise Invalid(_TOO_DEEP, {"body": _NESTED}) from None
    if body is None and request.get_data():
        raise Invalid("the body must be JSON", {"body": Msg("not valid JSON", code="not_json")})
    body = body if body is not None else {}
    check_json(body)
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object", {"body": _NOT_AN_OBJECT})
    return body


def data() -> dict[str, Any]:
    """The ``data`` member of the request's JSON object: form field id → value."""
    values = payload().get("data", {})
    if not isinstance(values, dict):
        raise Invalid("please correct the highlighted fields", {"data": _NOT_AN_OBJECT})
    return values


def check_json(value: Any) -> None:
    """No deeper than MAX_JSON_DEPTH (everything after the parser recurses too), and no string
    holding a character no field may store; the field named is the ``data`` member it is in."""
    stack: list[tuple[Any, int, str]] = [(value, 0, "body")]
    while stack:
        value, depth, where = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise Invalid(_TOO_DEEP, {"body": _NESTED})
        if isinstance(value, dict):
            for key, item in value.items():
                if has_control_characters(key, multiline=True):
                    raise Invalid("please correct the highlighted fields", {escaped(where, 60): CONTROL_CHARACTERS})
                stack.append((item, depth + 1, _member(where, depth, key)))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, where) for item in value)
        elif isinstance(value, str) and has_control_characters(value, multiline=True):
            raise Invalid("please correct the highlighted fields", {escaped(where, 60): CONTROL_CHARACTERS})


def _member(where: str, depth: int, key: str) -> str:
    """What an error at ``key`` is reported against: ``data``'s own members are form fields."""
    if depth == 0:
        return "data" if key == "data" else "body"
    return key if depth == 1 and where == "data" else where


def uploads(values: dict[str, Any]) -> dict[str, Upload]:
    """File fields arrive as {"filename", "content_type", "content_base64"}; the form rules
    (type, size, content matching the extension) are then checked like any upload."""
    found: dict[str, Upload] = {}
    for key in list(values):
        value = values[key]
        if not (isinstance(value, dict) and "content_base64" in value):
            continue
        encoded, filename = value.get("content_base64"), value.get("filename")
        if not isinstance(encoded, str) or not isinstance(filename, str) or len(encoded) > MAX_UPLOAD_B64:
            raise Invalid("please correct the highlighted fields", {key: NOT_A_FILE})
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("please correct the highlighted fields", {key: NOT_A_FILE}) from None
        content_type = value.get("content_type") if isinstance(value.get("content_type"), str) else ""
        found[key] = Upload(filename[:200], content_type or "application/octet-stream", content)
        del values[key]
    return found


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid("please correct the highlighted fields", {name: NOT_A_WHOLE_NUMBER}) from None
    if not low <= value <= high:
        raise Invalid("please correct the highlighted fields", {name: Msg("out of range", code="out_of_range")})
    return value


def bool_arg(name: str) -> bool:
    raw = request.args.get(name, "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise Invalid("please correct the highlighted fields", {name: NOT_YES_OR_NO})
    return raw in ("true", "1")


def confirmation() -> bool | str:
    """``confirm_warnings`` beside ``data``: the value a 409 answered, or true for any warning."""
    value = payload().get("confirm_warnings", "")
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise Invalid("please correct the highlighted fields",
                      {"confirm_warnings": Msg("must be a text or true", code="wrong_type")})
    return value[:64]
