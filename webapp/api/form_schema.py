"""A form as JSON Schema (draft 2020-12), as SpiffArena offers its forms, for generic form
renderers and client-side checks. Built from the same effective constraints validate uses
(``form_shapes.limits``); the server's check stays the authority (it also trims values,
reads "300000" as a number and evaluates ``requiredWhen`` over the case's data too)."""

from __future__ import annotations

from typing import Any

from workflows.engine.dialect import FormField

from ..template_helpers import bilingual, option_label
from .form_shapes import limits, required_when

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _pattern(regex: str) -> str:
    return f"^(?:{regex})$"  # the form matches the whole value; JSON Schema's pattern searches


def _extensions(accept: list[str]) -> str:
    """A file name ending in one of ``accept``, in any letter case (JSON Schema has no flags)."""
    def anycase(ext: str) -> str:
        return "".join(f"[{ch.lower()}{ch.upper()}]" if ch.isalpha() else "\\" + ch if ch == "." else ch
                       for ch in ext)
    return "(" + "|".join(anycase(ext) for ext in accept) + ")$"


def property_schema(ff: FormField, ctx: dict[str, Any] | None = None) -> dict[str, Any]:
    c = limits(ff)
    out: dict[str, Any] = {"title": bilingual(ff.label)}
    if ff.type in ("string", "text"):
        out.update(type="string", maxLength=c["max_length"])
        if c["min_length"] is not None:
            out["minLength"] = c["min_length"]
        if c["pattern"]:
            out["pattern"] = _pattern(c["pattern"])
    elif ff.type in ("long", "decimal"):
        out.update(type="integer" if ff.type == "long" else "number", minimum=c["minimum"], maximum=c["maximum"])
        if ff.type == "decimal":
            out["x-maxDecimalPlaces"] = c["max_decimal_places"]
    elif ff.type == "boolean":
        out["type"] = "boolean"
    elif ff.type == "date":
        out.update(type="string", format="date", **{"x-minimum": c["minimum"], "x-maximum": c["maximum"]})
    elif ff.type == "enum":
        out.update(type="string", oneOf=[{"const": k, "title": option_label(v, ctx)} for k, v in ff.options])
    elif ff.type == "file":
        out.update(type="object", required=["filename", "content_base64"], properties={
            "filename": {"type": "string", "pattern": _extensions(c["accept"])},
            "content_type": {"type": "string"}, "content_base64": {"type": "string", "contentEncoding": "base64"}},
            **{"x-accept": c["accept"], "x-maxSize": c["max_size"]})
    if ff.readonly:
        out["readOnly"] = True
    if ff.default not in (None, ""):
        out["default"] = ff.default
    return out


def condition_schema(tree: dict[str, Any]) -> dict[str, Any]:
    """A ``requiredWhen`` tree (``conditions.condition_tree``) as the ``if`` of an if/then."""
    if "all" in tree:
        return {"allOf": [condition_schema(part) for part in tree["all"]]}
    if "any" in tree:
        return {"anyOf": [condition_schema(part) for part in tree["any"]]}
    if "not" in tree:
        return {"not": condition_schema(tree["not"])}
    name, op, value = tree["field"], tree["op"], tree.get("value")
    present = {"required": [name]}
    tests: dict[str, dict[str, Any]] = {
        "==": {"const": value}, "in": {"enum": value}, "<": {"exclusiveMaximum": value},
        "<=": {"maximum": value}, ">": {"exclusiveMinimum": value}, ">=": {"minimum": value},
        "truthy": {"not": {"enum": [False, None, "", 0]}},
    }
    if op == "!=":
        return {"properties": {name: {"not": {"const": value}}}}  # an absent value differs too
    if op == "not in":
        return {"properties": {name: {"not": {"enum": value}}}}
    return {"properties": {name: tests[op]}, **present}


def form_schema(fields: list[FormField], title: str, ctx: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole form: its fields, which are required, and each ``requiredWhen`` as if/then."""
    conditional = []
    for ff in fields:
        rule = required_when(ff)
        if rule is not None and rule["condition"] is not None and not ff.readonly:
            conditional.append({"if": condition_schema(rule["condition"]), "then": {"required": [ff.id]}})
    out: dict[str, Any] = {
        "$schema": DIALECT, "title": title, "type": "object",
        "properties": {ff.id: property_schema(ff, ctx) for ff in fields},
        "required": [ff.id for ff in fields if ff.required and not ff.readonly],
        "additionalProperties": False,
    }
    if conditional:
        out["allOf"] = conditional
    return out
