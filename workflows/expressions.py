"""The restricted expression environment every diagram runs in.

SpiffWorkflow evaluates conditions, scripts, timer durations and DMN entries as
Python with full builtins, so a diagram could call ``__import__('os')``. We
accept only a small, whitelisted subset of Python's syntax and evaluate it with
no builtins beyond a few pure helpers; anything else is refused at deploy time
by :func:`check_expression` / :func:`check_script` and again at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
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

# Pure helpers a diagram may call; business helpers are added per instance.
SAFE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "min": min, "max": max, "abs": abs, "round": round, "sum": sum,
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


def allowed_call_names(extra: Mapping[str, Any] | None = None) -> set[str]:
    from .helpers import HELPER_NAMES  # late import: helpers import the models

    return set(SAFE_FUNCTIONS) | set(HELPER_NAMES) | set(extra or {})


def check_expression(text: str, allowed_calls: set[str] | None = None) -> ast.Expression:
    """Parse and check one expression; raises SyntaxError or UnsafeExpression."""
    if len(text) > 20_000:
        raise UnsafeExpression("expression too long")
    tree = ast.parse(text.strip(), mode="eval")
    _check_tree(tree, allowed_calls if allowed_calls is not None else allowed_call_names())
    return tree


def check_script(text: str, allowed_calls: set[str] | None = None) -> ast.Module:
    """Parse and check a script task body (assignments, ifs, helper calls)."""
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
        from .helpers import HELPER_NAMES

        return names | set(HELPER_NAMES)

    def evaluate(self, expression: str, context: dict, external_context: Mapping[str, Any] | None = None) -> Any:
        code = _cache.expressions.get(expression)
        if code is None:
            tree = check_expression(expression, self._allowed(external_context))
            code = compile(tree, "<expression>", "eval")
            _cache.expressions[expression] = code
        env = self._globals(external_context)
        env.update(context)
        return eval(code, env)  # noqa: S307 - checked subset, no builtins

    def execute(self, script: str, context: dict, external_context: Mapping[str, Any] | None = None) -> bool:
        code = _cache.scripts.get(script)
        if code is None:
            tree = check_script(script, self._allowed(external_context))
            code = compile(tree, "<script>", "exec")
            _cache.scripts[script] = code
        env = self._globals(external_context)
        reserved = set(env)
        env.update(context)
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
        check_expression(expression, self.environment._allowed(None))

