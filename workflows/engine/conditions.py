"""A form field's ``requiredWhen`` as data a client can evaluate itself.

The engine evaluates the expression text (``sandbox``); clients of the API get it
also as a tree when it is a comparison of a field with constants, or ``and`` /
``or`` / ``not`` of such comparisons. It is read with the ``ast`` module, never run.
Anything else (function calls, arithmetic, two fields compared) gives ``None``:
the text is then the only description.
"""

from __future__ import annotations

import ast
from typing import Any

_OPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in",
}
_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
MAX_TEXT = 1000


def condition_tree(text: str | None) -> dict[str, Any] | None:
    """``decision == 'reject'`` → ``{"field": "decision", "op": "==", "value": "reject"}``;
    ``a and b`` → ``{"all": [...]}``, ``a or b`` → ``{"any": [...]}``, ``not a`` → ``{"not": ...}``;
    a bare field name → ``{"field": name, "op": "truthy"}``. None when it is none of these."""
    if not text or len(text) > MAX_TEXT:
        return None
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return _tree(node)


def _tree(node: ast.expr) -> dict[str, Any] | None:
    if isinstance(node, ast.BoolOp):
        parts = [_tree(value) for value in node.values]
        if any(part is None for part in parts):
            return None
        return {"all" if isinstance(node.op, ast.And) else "any": parts}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _tree(node.operand)
        return {"not": inner} if inner is not None else None
    if isinstance(node, ast.Name):
        return {"field": node.id, "op": "truthy"}
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        return _comparison(node.left, node.ops[0], node.comparators[0])
    return None


def _comparison(left: ast.expr, op: ast.cmpop, right: ast.expr) -> dict[str, Any] | None:
    name = _OPS.get(type(op))
    if name is None or (name in ("in", "not in") and not isinstance(right, (ast.Tuple, ast.List, ast.Set))):
        return None  # membership only in a list of constants (``'a' in text`` searches a text)
    if isinstance(left, ast.Name) and _is_literal(right):
        return {"field": left.id, "op": name, "value": _literal(right)}
    if isinstance(right, ast.Name) and _is_literal(left) and name in _MIRRORED:
        return {"field": right.id, "op": _MIRRORED[name], "value": _literal(left)}
    return None


_SCALARS = (str, int, float, bool, type(None))


def _is_literal(node: ast.expr) -> bool:
    """A JSON-able literal (``'reject'``, ``3``, ``-1``, ``None``, ``('a', 'b')``), read without running anything."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(isinstance(item, ast.Constant) and isinstance(item.value, _SCALARS) for item in node.elts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
        return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool)
    return isinstance(node, ast.Constant) and isinstance(node.value, _SCALARS)


def _literal(node: ast.expr) -> Any:
    value = ast.literal_eval(node)
    return list(value) if isinstance(value, (tuple, list, set, frozenset)) else value
