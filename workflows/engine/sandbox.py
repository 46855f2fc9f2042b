"""The restricted expression environment every diagram runs in.

SpiffWorkflow evaluates conditions, scripts, timer durations and DMN entries as
Python with full builtins, so a diagram could call ``__import__('os')``. We
accept only a small, whitelisted subset of Python's syntax and evaluate it with
no builtins beyond a few pure helpers; anything else is refused at deploy time
by :func:`check_expression` / :func:`check_script` and again at run time.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment


class UnsafeExpression(ValueError):
    """An expression uses syntax or names outside the permitted subset."""


_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.If,
    ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Is, ast.IsNot, ast.IfExp, ast.Name, ast.Load, ast.Store, ast.Constant,
    ast.Subscript, ast.Slice, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.Call, ast.keyword,
    ast.Pass,
)

# --- bounded values -----------------------------------------------------------
# The syntax check cannot see sizes: 'x' * 100000 * 100000, x = x + x repeated, or
# x = x * x repeated pass it and then allocate gigabytes at run time. Every +, * and %
# an expression writes is compiled into a call of a checked function that refuses a
# result over these bounds before building it. Numbers take a fast path.

MAX_SIZE = 100_000  # characters of a text, or items of a list (nested items counted)
MAX_INT_DIGITS = 1000
_MAX_INT_BITS = int(MAX_INT_DIGITS * 3.33)
_NUMBERS = (int, float, Decimal)  # bool is an int
_SEQUENCES = (str, list, tuple)
_FORMAT_WIDTH = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")
_MAX_FORMAT_WIDTH = 100


class ValueTooLarge(ValueError):
    """An expression tried to build a value over :data:`MAX_SIZE` or :data:`MAX_INT_DIGITS`."""


def size_of(value: Any, _seen: dict[int, int] | None = None) -> int:
    """Characters plus items, nested ones counted each time they appear (as printing would)."""
    if isinstance(value, str):
        return len(value)
    if not isinstance(value, (list, tuple, dict, set, frozenset)):
        return 1
    seen = {} if _seen is None else _seen
    known = seen.get(id(value))
    if known is not None:
        return known
    seen[id(value)] = 1  # a list that contains itself counts once
    items = value.items() if isinstance(value, dict) else ((v,) for v in value)
    total = len(value)
    for pair in items:
        for item in pair:
            total += size_of(item, seen)
            if total > MAX_SIZE:
                break
    seen[id(value)] = total
    return total


def _int_ok(result: Any) -> Any:
    if type(result) is int and result.bit_length() > _MAX_INT_BITS:
        raise ValueTooLarge(f"a number over {MAX_INT_DIGITS} digits")
    return result


def _too_big(what: str) -> ValueTooLarge:
    return ValueTooLarge(f"{what} over {MAX_SIZE:,} characters or items")


def checked_add(a: Any, b: Any) -> Any:
    if isinstance(a, _NUMBERS) and isinstance(b, _NUMBERS):
        return _int_ok(a + b)
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES) and size_of(a) + size_of(b) > MAX_SIZE:
        raise _too_big("a text or list")
    return a + b


def checked_mul(a: Any, b: Any) -> Any:
    if isinstance(a, _NUMBERS) and isinstance(b, _NUMBERS):
        return _int_ok(a * b)
    seq, times = (a, b) if isinstance(a, _SEQUENCES) else (b, a)
    if isinstance(seq, _SEQUENCES) and isinstance(times, int) and times > 0 and size_of(seq) * times > MAX_SIZE:
        raise _too_big("a repeated text or list")
    return a * b


def checked_mod(a: Any, b: Any) -> Any:
    if isinstance(a, _NUMBERS) and isinstance(b, _NUMBERS):
        return a % b
    if isinstance(a, str):
        for width, precision in _FORMAT_WIDTH.findall(a):
            for number in (width, precision):
                if number == "*" or (number and int(number) > _MAX_FORMAT_WIDTH):
                    raise ValueTooLarge(f"a format width over {_MAX_FORMAT_WIDTH}")
        if size_of(b) > MAX_SIZE:
            raise _too_big("formatted values")
        result = a % b
        if len(result) > MAX_SIZE:
            raise _too_big("a formatted text")
        return result
    return a % b


def checked_sum(values: Iterable[Any], start: Any = 0) -> Any:
    total = start
    for value in values:
        total = checked_add(total, value)
    return total


CHECKED_OPERATIONS: dict[str, Callable[..., Any]] = {
    "_checked_add": checked_add, "_checked_mul": checked_mul, "_checked_mod": checked_mod,
}
_CHECKED_NAMES = {ast.Add: "_checked_add", ast.Mult: "_checked_mul", ast.Mod: "_checked_mod"}


class _BoundOperations(ast.NodeTransformer):
    """``a * b`` → ``_checked_mul(a, b)``; ``x += y`` → ``x = _checked_add(x, y)``."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        name = _CHECKED_NAMES.get(type(node.op))
        if name is None:
            return node
        return ast.copy_location(ast.Call(ast.Name(name, ast.Load()), [node.left, node.right], []), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        name = _CHECKED_NAMES.get(type(node.op))
        if name is None:
            return node
        current = _as_load(node.target)
        call = ast.Call(ast.Name(name, ast.Load()), [current, node.value], [])
        return ast.copy_location(ast.Assign([node.target], call), node)


def _as_load(target: ast.expr) -> ast.expr:
    """The assignment target read as a value (``x`` or ``d['k']`` on the right-hand side)."""
    clone = copy.deepcopy(target)
    clone.ctx = ast.Load()
    return clone


def bounded(tree: ast.AST) -> ast.AST:
    """The tree with every +, * and % (and +=, *=, %=) routed through the checked functions."""
    return ast.fix_missing_locations(_BoundOperations().visit(tree))


# Pure functions a diagram may call; the functions of a case's family are passed in per instance.
SAFE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "min": min, "max": max, "abs": abs, "round": round, "sum": checked_sum,
    "int": int, "float": float, "str": str, "bool": bool, "any": any, "all": all,
    "sorted": sorted, "list": list,
}
SAFE_CONSTANTS: dict[str, Any] = {"True": True, "False": False, "None": None}


def _check_tree(tree: ast.AST, allowed_calls: set[str]) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise UnsafeExpression(f"syntax not allowed: {type(node).__name__}")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise UnsafeExpression(f"name not allowed: {node.id}")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in allowed_calls:
                name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                raise UnsafeExpression(f"call not allowed: {name}")
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and (sub.id in allowed_calls or sub.id.startswith("_")):
                        raise UnsafeExpression(f"cannot assign to {sub.id}")
        if isinstance(node, ast.Constant) and isinstance(node.value, (bytes,)):
            raise UnsafeExpression("bytes literals not allowed")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) > 10_000:
            raise UnsafeExpression("string literal too long")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            # Guard against memory bombs such as 'x' * 10**12.
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and isinstance(side.value, int) and side.value > 100_000:
                    raise UnsafeExpression("constant too large in multiplication")


def allowed_call_names(functions: Iterable[str] = ()) -> set[str]:
    """The pure built-ins plus the named functions the caller allows (a family's, the generic ones)."""
    return set(SAFE_FUNCTIONS) | set(functions)


def check_expression(text: str, allowed_calls: set[str] | None = None) -> ast.Expression:
    """Parse and check one expression; raises SyntaxError or UnsafeExpression.
    ``allowed_calls`` defaults to the pure built-ins only."""
    if len(text) > 20_000:
        raise UnsafeExpression("expression too long")
    tree = ast.parse(text.strip(), mode="eval")
    _check_tree(tree, allowed_calls if allowed_calls is not None else allowed_call_names())
    return tree


def check_script(text: str, allowed_calls: set[str] | None = None) -> ast.Module:
    """Parse and check a script task body (assignments, ifs, function calls)."""
    if len(text) > 20_000:
        raise UnsafeExpression("script too long")
    tree = ast.parse(text, mode="exec")
    _check_tree(tree, allowed_calls if allowed_calls is not None else allowed_call_names())
    return tree


class _Cache:
    """Compiled code per source text: checking and compiling once is the cheap path."""

    def __init__(self) -> None:
        self.expressions: dict[str, Any] = {}
        self.scripts: dict[str, Any] = {}


_cache = _Cache()


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates checked code with no builtins and only whitelisted functions."""

    def __init__(self, helpers: Mapping[str, Callable[..., Any]] | None = None) -> None:
        super().__init__({})
        self.helpers = dict(helpers or {})

    def _globals(self, external_context: Mapping[str, Any] | None) -> dict[str, Any]:
        env: dict[str, Any] = {"__builtins__": {}}
        env.update(SAFE_CONSTANTS)
        env.update(SAFE_FUNCTIONS)
        env.update(self.helpers)
        if external_context:
            env.update(external_context)
        return env

    def _allowed(self, external_context: Mapping[str, Any] | None) -> set[str]:
        names = set(SAFE_FUNCTIONS) | set(self.helpers)
        if external_context:
            names |= {k for k, v in external_context.items() if callable(v)}
        return names

    def evaluate(self, expression: str, context: dict, external_context: Mapping[str, Any] | None = None) -> Any:
        code = _cache.expressions.get(expression)
        if code is None:
            tree = check_expression(expression, self._allowed(external_context))
            code = compile(bounded(tree), "<expression>", "eval")
            _cache.expressions[expression] = code
        env = self._globals(external_context)
        env.update(context)
        env.update(CHECKED_OPERATIONS)  # after the data: a field can never stand in for them
        return eval(code, env)  # noqa: S307 - checked subset, no builtins

    def execute(self, script: str, context: dict, external_context: Mapping[str, Any] | None = None) -> bool:
        code = _cache.scripts.get(script)
        if code is None:
            tree = check_script(script, self._allowed(external_context))
            code = compile(bounded(tree), "<script>", "exec")
            _cache.scripts[script] = code
        env = self._globals(external_context)
        reserved = set(env) | set(CHECKED_OPERATIONS)
        env.update(context)
        env.update(CHECKED_OPERATIONS)
        exec(code, env)  # noqa: S102 - checked subset, no builtins
        for key, value in env.items():
            if key == "__builtins__" or callable(value) or (key in reserved and key not in context):
                continue
            context[key] = value
        return True


class RestrictedScriptEngine(PythonScriptEngine):
    """Script engine whose validate() also enforces the safe subset."""

    def __init__(self, helpers: Mapping[str, Callable[..., Any]] | None = None) -> None:
        super().__init__(environment=RestrictedEnvironment(helpers))

    def validate(self, expression: str) -> None:
        """SpiffWorkflow's DMN engine validates every entry of every rule at each evaluation (to
        tell ``3`` from ``< 3``): the verdict for a text and a set of callable names is kept."""
        allowed = frozenset(self.environment._allowed(None))
        key = (expression, allowed)
        verdict = _validated.get(key, _UNSEEN)
        if verdict is _UNSEEN:
            try:
                check_expression(expression, set(allowed))
                verdict = None
            except (SyntaxError, UnsafeExpression) as exc:
                verdict = (type(exc), exc.args)
            if len(_validated) > 20_000:
                _validated.clear()
            _validated[key] = verdict
        if verdict is not None:
            kind, args = verdict
            raise kind(*args)  # a fresh one each time: a kept exception would grow its traceback


_UNSEEN = object()
_validated: dict[tuple[str, frozenset[str]], Any] = {}

