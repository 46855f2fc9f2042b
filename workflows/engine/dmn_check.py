"""Checking a DMN document before it is deployed, every problem naming the rule (row and id)
and the column (the input's label, the output's name).

What is checked:

- the XML: hostile documents refused as every diagram is (``parse_xml``, ``check_no_markup``);
  one decision with one decision table, as SpiffWorkflow evaluates;
- the hit policy: UNIQUE, FIRST, ANY and COLLECT (without aggregation) — SpiffWorkflow gives the
  first matching rule's result for every other policy, so PRIORITY, RULE ORDER and OUTPUT ORDER
  would silently mean FIRST and are refused;
- each input has an expression and a type (``typeRef``), each output a name;
- each rule has one entry per input and per output;
- each input expression, input entry and output entry is an expression of the dialect SpiffWorkflow
  evaluates (Python, the entry either a value compared for equality, an operator form such as
  ``>= 65`` / ``in ['a', 'b']``, or a test with ``?``) and as safe as a BPMN condition (the sandbox);
- overlapping rules, where the hit policy forbids them (UNIQUE; ANY when their outputs differ);
- input combinations no rule covers: an error under UNIQUE and ANY, a warning under FIRST and
  COLLECT (the business rule task would give no output and the case would stop at the next
  condition that reads one).

The last two are decided for the entries that can be analysed — ``-``, literals, lists of
literals (``in [...]``, ``not in [...]``), comparisons with a literal (``< 18``, ``!= 'C1'``), ranges
(``18 <= ? < 65``) and ``and``/``or``/``not`` of tests with ``?`` — over each input's domain from its type:
whole numbers (integer, long), numbers (double, number), true/false (boolean) and texts (string:
the values the table names, and any other text). A rule with an entry that cannot be analysed
(an expression over case data, a date) is left out silently: "cannot tell" is never reported.
"""

from __future__ import annotations

import ast
import itertools
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lxml import etree

from workflows.engine.sandbox import UnsafeExpression, allowed_call_names, check_expression
from workflows.engine.xml import DMN_NAMESPACES, DefinitionError, check_no_markup, parse_xml
from workflows.errors import Msg

__all__ = ["Problem", "check_dmn", "errors"]

SUPPORTED_POLICIES = ("UNIQUE", "FIRST", "ANY", "COLLECT")
KNOWN_POLICIES = (*SUPPORTED_POLICIES, "PRIORITY", "RULE ORDER", "OUTPUT ORDER")
MAX_COMBINATIONS = 200_000  # input combinations tried for gaps; beyond, the check says nothing
MAX_GAPS = 3
_PH = "dmninputexpr"  # the name SpiffWorkflow's DMN engine puts in place of '?'
_QUESTION = re.compile(r'(\?)(?=(?:[^\'"]|[\'"][^\'"]*[\'"])*$)')  # '?' outside quotes, as DMNEngine finds it


@dataclass
class Problem:
    """One thing wrong with a table. ``code`` is stable (programs branch on it); ``message`` is
    English, translated at display; ``element_id`` is the XML element to point at in the editor."""

    code: str
    message: Msg
    severity: str = "error"  # or "warning": shown, does not block deploying
    row: int | None = None
    rule_id: str | None = None
    column: str | None = None
    column_kind: str | None = None  # "input" or "output"
    element_id: str | None = None
    other_row: int | None = None
    other_rule_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": str(self.message), "row": self.row,
                "rule_id": self.rule_id, "column": self.column, "column_kind": self.column_kind,
                "element_id": self.element_id, "other_row": self.other_row, "other_rule_id": self.other_rule_id}


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


# --- the sets of values an entry matches ----------------------------------------------------


@dataclass(frozen=True)
class Span:
    """An interval of numbers."""

    lo: float
    lo_in: bool
    hi: float
    hi_in: bool


ALL_NUMBERS = Span(-math.inf, False, math.inf, False)


@dataclass(frozen=True)
class Cond:
    """What an entry matches: numbers in ``spans``, other values in ``values`` (every other value
    but those when ``cofinite``)."""

    spans: tuple[Span, ...] = ()
    values: frozenset[Any] = field(default_factory=frozenset)
    cofinite: bool = False


ANYTHING = Cond((ALL_NUMBERS,), frozenset(), True)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _point(value: Any) -> Cond:
    if _is_number(value):
        v = float(value)
        return Cond((Span(v, True, v, True),))
    return Cond((), frozenset([value]))


def _span_and(a: Span, b: Span) -> Span | None:
    lo, lo_in = (a.lo, a.lo_in) if (a.lo, not a.lo_in) > (b.lo, not b.lo_in) else (b.lo, b.lo_in)
    hi, hi_in = (a.hi, a.hi_in) if (a.hi, a.hi_in) < (b.hi, b.hi_in) else (b.hi, b.hi_in)
    found = Span(lo, lo_in, hi, hi_in)
    return found if _nonempty(found) else None


def _and(a: Cond, b: Cond) -> Cond:
    spans = tuple(s for x in a.spans for y in b.spans if (s := _span_and(x, y)) is not None)
    if a.cofinite and b.cofinite:
        return Cond(spans, a.values | b.values, True)
    if a.cofinite:
        return Cond(spans, b.values - a.values, False)
    if b.cofinite:
        return Cond(spans, a.values - b.values, False)
    return Cond(spans, a.values & b.values, False)


def _or(a: Cond, b: Cond) -> Cond:
    spans = a.spans + b.spans
    if a.cofinite and b.cofinite:
        return Cond(spans, a.values & b.values, True)
    if a.cofinite:
        return Cond(spans, a.values - b.values, True)
    if b.cofinite:
        return Cond(spans, b.values - a.values, True)
    return Cond(spans, a.values | b.values, False)


def _nonempty(s: Span) -> bool:
    return s.lo < s.hi or (s.lo == s.hi and s.lo_in and s.hi_in)


def _not(a: Cond) -> Cond:
    """Every value the condition does not match."""
    gaps: list[Span] = []
    end, end_in = -math.inf, True  # how far the spans seen so far reach
    for s in sorted(a.spans, key=lambda s: (s.lo, not s.lo_in)):
        piece = Span(end, not end_in, s.lo, not s.lo_in)
        if _nonempty(piece):
            gaps.append(piece)
        if (s.hi, s.hi_in) > (end, end_in):
            end, end_in = s.hi, s.hi_in
    if end < math.inf:
        gaps.append(Span(end, not end_in, math.inf, False))
    return Cond(tuple(gaps), a.values, not a.cofinite)


_FLIP = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE, ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}


def _literal(node: ast.AST) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _compare(op: ast.cmpop, value: Any) -> Cond | None:
    """The input compared with a literal: ``input <op> value``."""
    if isinstance(op, ast.Eq):
        return _point(value)
    if isinstance(op, ast.NotEq):
        return _not(_point(value))
    if isinstance(op, (ast.In, ast.NotIn)):
        if not isinstance(value, (list, tuple, set, frozenset)) or any(isinstance(v, (list, dict, set)) for v in value):
            return None
        found = Cond()
        for item in value:
            found = _or(found, _point(item))
        return found if isinstance(op, ast.In) else _not(found)
    if not _is_number(value):
        return None
    v = float(value)
    return {ast.Lt: Cond((Span(-math.inf, False, v, False),)), ast.LtE: Cond((Span(-math.inf, False, v, True),)),
            ast.Gt: Cond((Span(v, False, math.inf, False),)),
            ast.GtE: Cond((Span(v, True, math.inf, False),))}.get(type(op))


def _from_tree(node: ast.AST) -> Cond | None:
    if isinstance(node, ast.BoolOp):
        parts = [_from_tree(v) for v in node.values]
        if any(p is None for p in parts):
            return None
        found = parts[0]
        for part in parts[1:]:
            found = _and(found, part) if isinstance(node.op, ast.And) else _or(found, part)  # type: ignore[arg-type]
        return found
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _from_tree(node.operand)
        return None if inner is None else _not(inner)
    if not isinstance(node, ast.Compare):
        return None
    operands = [node.left, *node.comparators]
    found: Cond | None = ANYTHING
    for (left, right), op in zip(itertools.pairwise(operands), node.ops, strict=True):
        is_ph_left = isinstance(left, ast.Name) and left.id == _PH
        is_ph_right = isinstance(right, ast.Name) and right.id == _PH
        if is_ph_left == is_ph_right:
            return None
        ok, value = _literal(right if is_ph_left else left)
        if not ok:
            return None
        if not is_ph_left:
            if type(op) not in _FLIP:
                return None
            op = _FLIP[type(op)]()
        cond = _compare(op, value)
        if cond is None or found is None:
            return None
        found = _and(found, cond)
    return found


def entry_cond(text: str | None) -> Cond | None:
    """The values an input entry matches, read as SpiffWorkflow's DMN engine evaluates it; None
    when it cannot be analysed."""
    entry = (text or "").strip()
    if not entry or entry == "-":
        return ANYTHING
    try:
        if _QUESTION.search(entry):
            return _from_tree(ast.parse(_QUESTION.sub(_PH, entry), mode="eval").body)
        try:
            tree = ast.parse(entry, mode="eval")
        except SyntaxError:
            return _from_tree(ast.parse(f"{_PH} {entry}", mode="eval").body)
        ok, value = _literal(tree.body)  # an expression on its own: compared for equality
        return _point(value) if ok and not isinstance(value, (list, tuple, dict, set)) else None
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


# --- domains: what an input may hold ------------------------------------------------------

_DOMAINS = {"integer": "int", "long": "int", "int": "int", "short": "int", "double": "num", "number": "num",
            "decimal": "num", "float": "num", "boolean": "bool", "bool": "bool", "string": "str"}


class _Other:
    """Any text the table does not name."""

    def __repr__(self) -> str:
        return "any other text"


OTHER = _Other()


def _int_in(s: Span) -> int | None:
    if s.lo == -math.inf:
        n = math.floor(s.hi) if s.hi != math.inf else 0
        return n if s.hi_in or n < s.hi else n - 1
    n = math.ceil(s.lo) if s.lo_in else math.floor(s.lo) + 1
    return n if (n < s.hi or (n == s.hi and s.hi_in)) else None


def _sample(c: Cond, domain: str | None) -> Any:
    """A value of ``domain`` the condition matches, or None when it matches none."""
    if domain in ("int", "num", None):
        for s in c.spans:
            if domain == "int":
                if (n := _int_in(s)) is not None:
                    return n
                continue
            if s.lo_in:
                return _num(s.lo)
            if s.hi_in:
                return _num(s.hi)
            if s.lo == -math.inf:
                return _num(s.hi - 1 if s.hi != math.inf else 0)
            return _num(s.lo + 1 if s.hi == math.inf else (s.lo + s.hi) / 2)
        if domain in ("int", "num"):
            return None
    if domain == "bool":
        for v in (True, False):
            if (v in c.values) != c.cofinite:
                return v
        return None
    if c.cofinite:
        return OTHER
    strings = sorted((v for v in c.values if domain is None or isinstance(v, str)), key=repr)
    return strings[0] if strings else None


def _num(v: float) -> int | float:
    return int(v) if float(v).is_integer() else v


def _contains(c: Cond, value: Any) -> bool:
    if value is OTHER:
        return c.cofinite
    if _is_number(value):
        v = float(value)
        return any((s.lo < v or (s.lo == v and s.lo_in)) and (v < s.hi or (v == s.hi and s.hi_in)) for s in c.spans)
    return (value in c.values) != c.cofinite


def _representatives(conds: list[Cond], domain: str | None) -> list[Any] | None:
    """One value per region of the domain where every condition of the column holds or fails alike."""
    if domain in ("int", "num"):
        bounds = sorted({b for c in conds for s in c.spans for b in (s.lo, s.hi) if math.isfinite(b)})
        if not bounds:
            return [0]
        reps: list[Any] = []
        edges = [-math.inf, *bounds, math.inf]
        for lo, hi in itertools.pairwise(edges):
            gap = _sample(Cond((Span(lo, False, hi, False),)), domain)
            if gap is not None:
                reps.append(gap)
            if math.isfinite(hi) and (domain == "num" or float(hi).is_integer()):
                reps.append(_num(hi))
        return reps
    if domain == "bool":
        return [True, False]
    if domain == "str":
        named = sorted({v for c in conds for v in c.values if isinstance(v, str)})
        return [*named, OTHER]
    return None


def _equals(label: str, value: Any, named: Any) -> str:
    """``Age = 65``; a text the table does not name: ``Purpose ∉ {'general', 'pension'}``."""
    if value is not OTHER:
        return f"{label} = {value!r}"
    return f"{label} ∉ {{{', '.join(repr(v) for v in sorted(named, key=repr))}}}"


# --- reading the document -------------------------------------------------------------------


@dataclass
class _Column:
    element_id: str
    label: str
    expression: str
    type_ref: str


@dataclass
class _Rule:
    element_id: str
    row: int
    inputs: list[tuple[str, str]]  # (entry id, text)
    outputs: list[tuple[str, str]]


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _text(node: etree._Element | None, ns: str) -> str:
    if node is None:
        return ""
    found = node.find(_q(ns, "text"))
    return (found.text or "") if found is not None else ""


def check_dmn(dmn_xml: str, filename: str = "decision.dmn", functions: set[str] | None = None) -> list[Problem]:
    """Every problem of the document (errors first, then warnings); empty when it may be deployed.
    ``functions``: what its expressions may call beyond the pure built-ins (the families using it)."""
    try:
        root = parse_xml(dmn_xml, filename)
        check_no_markup(root, filename)
    except DefinitionError as exc:
        return [Problem("xml", Msg("the document cannot be read: %(detail)s", detail=exc.message))]
    ns = etree.QName(root).namespace or ""
    if ns not in DMN_NAMESPACES or etree.QName(root).localname != "definitions":
        return [Problem("structure", Msg("the root element must be DMN definitions"))]
    found_decisions = root.findall(_q(ns, "decision"))
    if len(found_decisions) != 1:
        return [Problem("structure", Msg("the document must define exactly one decision (it defines %(count)s)",
                                         count=len(found_decisions)))]
    decision = found_decisions[0]
    table = decision.find(_q(ns, "decisionTable"))
    if table is None:
        return [Problem("structure", Msg("the decision has no decision table"), element_id=decision.get("id"))]
    calls = allowed_call_names(functions or ())
    problems: list[Problem] = []
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in SUPPORTED_POLICIES:
        problems.append(Problem("hit_policy", Msg(
            "hit policy %(policy)s is not supported: use UNIQUE, FIRST, ANY or COLLECT", policy=policy),
            element_id=table.get("id")))
    if table.get("aggregation"):
        problems.append(Problem("hit_policy", Msg("COLLECT with an aggregation (%(aggregation)s) is not supported",
                                                  aggregation=table.get("aggregation")), element_id=table.get("id")))
    inputs, outputs, rules = _read_table(table, ns, calls, problems)
    if not rules:
        problems.append(Problem("no_rules", Msg("the table has no rules"), severity="warning"))
    if errors(problems):
        return _ordered(problems)
    try:  # what SpiffWorkflow itself refuses (it is what will run the table)
        from workflows.engine.dmn import load
        load(dmn_xml, filename)
    except DefinitionError as exc:
        return _ordered([*problems, Problem("structure", Msg("%(detail)s", detail=exc.message))])
    conds = [[entry_cond(text) for _id, text in rule.inputs] for rule in rules]
    domains = [_DOMAINS.get(c.type_ref.strip().lower()) for c in inputs]
    if policy in ("UNIQUE", "ANY"):
        problems += _overlaps(rules, conds, inputs, domains, policy)
    if policy in SUPPORTED_POLICIES:
        problems += _gaps(rules, conds, inputs, domains, policy)
    return _ordered(problems)


def _ordered(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.severity != "error", p.row or 0))


def _read_table(table: etree._Element, ns: str, calls: set[str],
                problems: list[Problem]) -> tuple[list[_Column], list[_Column], list[_Rule]]:
    inputs: list[_Column] = []
    outputs: list[_Column] = []
    for node in table.findall(_q(ns, "input")):
        expr_node = node.find(_q(ns, "inputExpression"))
        expression = _text(expr_node, ns).strip()
        column = _Column(node.get("id") or "", node.get("label") or expression or node.get("id") or "?",
                         expression, (expr_node.get("typeRef") if expr_node is not None else "") or "")
        inputs.append(column)
        where = {"column": column.label, "column_kind": "input", "element_id": column.element_id}
        if not column.type_ref.strip():
            problems.append(Problem("type_missing", Msg("the input %(column)s has no type (typeRef)",
                                                        column=column.label), **where))
        if not expression:
            problems.append(Problem("expression", Msg("the input %(column)s has no expression", column=column.label),
                                    **where))
        else:
            _expression(expression, calls, problems, where)
    for node in table.findall(_q(ns, "output")):
        name = node.get("name") or ""
        column = _Column(node.get("id") or "", name or node.get("label") or node.get("id") or "?", "",
                         node.get("typeRef") or "")
        outputs.append(column)
        if not name.strip() and not (node.get("label") or "").strip():
            problems.append(Problem("structure", Msg("an output has no name"), column=column.label,
                                    column_kind="output", element_id=column.element_id))
    rules: list[_Rule] = []
    for row, node in enumerate(table.findall(_q(ns, "rule")), start=1):
        rule = _Rule(node.get("id") or "", row,
                     [(e.get("id") or "", _text(e, ns)) for e in node.findall(_q(ns, "inputEntry"))],
                     [(e.get("id") or "", _text(e, ns)) for e in node.findall(_q(ns, "outputEntry"))])
        rules.append(rule)
        at = {"row": row, "rule_id": rule.element_id}
        for kind, entries, columns in (("input", rule.inputs, inputs), ("output", rule.outputs, outputs)):
            if len(entries) != len(columns):
                template = ("rule %(row)s has %(found)s input entries for %(expected)s input columns" if kind == "input"
                            else "rule %(row)s has %(found)s output entries for %(expected)s output columns")
                problems.append(Problem("entry_count", Msg(template, row=row, found=len(entries),
                                                           expected=len(columns)), element_id=rule.element_id, **at))
        for (entry_id, text), column in zip(rule.inputs, inputs, strict=False):
            _entry(text, calls, problems, {**at, "column": column.label, "column_kind": "input",
                                           "element_id": entry_id})
        for (entry_id, text), column in zip(rule.outputs, outputs, strict=False):
            if text.strip():
                _expression(text, calls, problems, {**at, "column": column.label, "column_kind": "output",
                                                    "element_id": entry_id})
    return inputs, outputs, rules


_SYNTAX = ("rule %(row)s, %(column)s: %(text)s is not a valid expression (%(detail)s)",
           "%(column)s: %(text)s is not a valid expression (%(detail)s)")
_UNSAFE = ("rule %(row)s, %(column)s: expression refused, %(detail)s: %(text)s",
           "%(column)s: expression refused, %(detail)s: %(text)s")
_BAD_ENTRY = ("rule %(row)s, %(column)s: %(text)s is not a valid entry (a value, an operator form such as '>= 65' or "
              "\"in ['a', 'b']\", or a test with '?')")


def _msg(templates: tuple[str, str], where: dict[str, Any], **params: Any) -> Msg:
    if where.get("row"):
        return Msg(templates[0], row=where["row"], column=where["column"], **params)
    return Msg(templates[1], column=where["column"], **params)


def _expression(text: str, calls: set[str], problems: list[Problem], where: dict[str, Any]) -> None:
    try:
        check_expression(text, calls)
    except SyntaxError as exc:
        problems.append(Problem("expression", _msg(_SYNTAX, where, text=repr(text.strip()),
                                                   detail=exc.msg or "syntax"), **where))
    except UnsafeExpression as exc:
        problems.append(Problem("unsafe", _msg(_UNSAFE, where, detail=str(exc), text=repr(text.strip())), **where))
    except (RecursionError, MemoryError, ValueError):
        problems.append(Problem("expression", _msg(_SYNTAX, where, text=repr(text.strip()[:80]),
                                                   detail="too deeply nested"), **where))


def _entry(text: str, calls: set[str], problems: list[Problem], where: dict[str, Any]) -> None:
    """An input entry as SpiffWorkflow evaluates it: '-', a test with '?', a value, or an operator form."""
    entry = text.strip()
    if not entry or entry == "-":
        return
    if _QUESTION.search(entry):
        _expression(_QUESTION.sub(_PH, entry), calls, problems, where)
        return
    try:
        check_expression(entry, calls)
        return
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        pass
    except UnsafeExpression as exc:
        problems.append(Problem("unsafe", _msg(_UNSAFE, where, detail=str(exc), text=repr(entry)), **where))
        return
    before = len(problems)
    _expression(f"{_PH} {entry}", calls, problems, where)
    if len(problems) > before and problems[-1].code == "expression":
        problems[-1].message = Msg(_BAD_ENTRY, row=where["row"], column=where["column"], text=repr(entry))


def _overlaps(rules: list[_Rule], conds: list[list[Cond | None]], inputs: list[_Column],
              domains: list[str | None], policy: str) -> list[Problem]:
    found: list[Problem] = []
    for i, j in itertools.combinations(range(len(rules)), 2):
        a, b = conds[i], conds[j]
        if len(a) != len(inputs) or len(b) != len(inputs) or any(c is None for c in (*a, *b)):
            continue  # cannot tell
        if policy == "ANY" and [t.strip() for _i, t in rules[i].outputs] == [t.strip() for _i, t in rules[j].outputs]:
            continue  # ANY allows overlapping rules that give the same result
        example = []
        for column, x, y, domain in zip(inputs, a, b, domains, strict=True):
            both = _and(x, y)  # type: ignore[arg-type]
            value = _sample(both, domain)
            if value is None:
                break
            if x != ANYTHING or y != ANYTHING:
                example.append(_equals(column.label, value, both.values))
        else:
            later = rules[j]
            found.append(Problem("overlap", Msg(
                "rules %(row)s and %(other)s both match the same inputs (e.g. %(example)s); hit policy %(policy)s "
                "allows only one", row=later.row, other=rules[i].row, example=", ".join(example) or "any",
                policy=policy), row=later.row, rule_id=later.element_id, element_id=later.element_id,
                other_row=rules[i].row, other_rule_id=rules[i].element_id))
    return found


def _gaps(rules: list[_Rule], conds: list[list[Cond | None]], inputs: list[_Column], domains: list[str | None],
          policy: str) -> list[Problem]:
    if not inputs or any(d is None for d in domains):
        return []  # a column of unknown type: cannot tell
    usable = [c for c in conds if len(c) == len(inputs)]
    columns: list[list[Any]] = []
    for index, domain in enumerate(domains):
        reps = _representatives([c[index] for c in usable if c[index] is not None], domain)
        if reps is None:
            return []
        columns.append(reps)
    if math.prod(len(c) for c in columns) > MAX_COMBINATIONS:
        return []
    found: list[Problem] = []
    severity = "error" if policy in ("UNIQUE", "ANY") else "warning"
    for combo in itertools.product(*columns):
        covered = uncertain = False
        for rule in usable:
            hits = [c is None or _contains(c, v) for c, v in zip(rule, combo, strict=True)]
            if all(hits):
                if all(c is not None for c in rule):
                    covered = True
                    break
                uncertain = True
        if covered or uncertain:
            continue
        example = ", ".join(_equals(col.label, v, [x for x in reps if x is not OTHER])
                            for col, v, reps in zip(inputs, combo, columns, strict=True))
        found.append(Problem("gap", Msg("no rule matches %(example)s (hit policy %(policy)s)", example=example,
                                        policy=policy), severity=severity))
        if len(found) >= MAX_GAPS:
            break
    return found
