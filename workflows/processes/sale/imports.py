"""CSV import of customers and products: the whole file is checked first and refused whole, with each
error's line and column, or written whole in one transaction (new records created, known ones, by ID
number or code, updated), each row's history written as ``imported``.

The file is UTF-8, with or without a byte-order mark (what Excel writes as "CSV UTF-8"), comma
separated, with a header line naming the columns (English keys or the Chinese headers below).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workflows.branch.models import User
from workflows.errors import Msg, Refused
from workflows.processes.sale import customers, products, records_access
from workflows.processes.sale.models import WealthCustomer, WealthProduct

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_SHOWN = 200  # errors listed; the count says how many there were

CUSTOMER_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "客户姓名"), "id_number": ("证件号码", "身份证号码", "身份证号"), "birth_date": ("出生日期",),
    "phone": ("电话", "手机号", "手机号码"), "risk_level": ("风险等级", "风险承受能力等级"),
    "assessed_on": ("测评日期",), "assessment_expires_on": ("测评到期日", "测评有效期至"),
    "guardian_name": ("监护人姓名",), "guardian_id_number": ("监护人证件号码",), "guardian_relation": ("监护关系",),
    "active": ("有效",),
}
PRODUCT_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("产品代码",), "name": ("产品名称",), "risk_rating": ("风险等级", "产品风险等级"),
    "term_months": ("期限（月）", "期限(月)", "期限"), "active": ("在售", "有效"),
}
CUSTOMER_REQUIRED = ("name", "id_number")
PRODUCT_REQUIRED = ("code", "name", "risk_rating", "term_months")


@dataclass(frozen=True)
class Problem:
    line: int
    column: int | None  # 1-based; None: the line as a whole, or a column the file does not have
    field: str | None
    message: Msg

    @property
    def key(self) -> str:
        if self.column is None:
            return f"line {self.line}" + (f" ({self.field})" if self.field else "")
        return f"line {self.line}, column {self.column}" + (f" ({self.field})" if self.field else "")


class ImportRefused(Refused):
    """The file was refused whole: nothing was written. ``problems`` lists each error (the first
    MAX_SHOWN), ``fields`` the same keyed ``line L, column C (field)``."""

    def __init__(self, problems: list[Problem], total: int) -> None:
        shown = problems[:MAX_SHOWN]
        super().__init__(Msg("The file was refused: %(errors)s error(s), nothing was imported. Correct them and "
                             "import the whole file again.", errors=total),
                         {p.key: p.message for p in shown}, code="import_refused")
        self.figures["shown"] = len(shown)
        self.problems = shown


@dataclass
class Result:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, str]  # field -> cell, the columns the file has


def _too_large(limit: str) -> Refused:
    return Refused(Msg("The file is too large to import at once (at most %(limit)s); split it.", limit=limit),
                   code="import_too_large")


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise _too_large(f"{MAX_BYTES // 1024 // 1024} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ImportRefused([Problem(line, None, None, Msg("not UTF-8 text: save the file as \"CSV UTF-8\"",
                                                           code="not_utf8"))], 1) from None


def _header_map(columns: dict[str, tuple[str, ...]]) -> dict[str, str]:
    names = {key.lower(): key for key in columns}
    names.update({alias.lower(): key for key, aliases in columns.items() for alias in aliases})
    return names


def read_rows(data: bytes, columns: dict[str, tuple[str, ...]], required: tuple[str, ...]) -> list[Row]:
    """The file's rows as field -> cell, or ImportRefused naming every problem of its form."""
    text = _decode(data)
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    names = _header_map(columns)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportRefused([Problem(reader.line_num or 1, None, None,
                                     Msg("not readable as CSV: %(reason)s", code="not_csv", reason=str(exc)))], 1) \
            from None
    if header is None or not any(cell.strip() for cell in header):
        raise ImportRefused([Problem(1, None, None, Msg("the file has no header line", code="empty_file"))], 1)
    fields: list[str | None] = []
    for index, cell in enumerate(header, start=1):
        key = names.get(cell.strip().lower())
        if not cell.strip():
            key = None
        elif key is None:
            problems.append(Problem(1, index, cell.strip()[:40], Msg("unknown column", code="unknown_column")))
        elif key in fields:
            problems.append(Problem(1, index, key, Msg("this column is named twice", code="duplicate_column")))
            key = None
        fields.append(key)
    for key in required:
        if key not in fields:
            problems.append(Problem(1, None, key, Msg("the column %(column)s is missing", code="missing_column",
                                                      column=key)))
    rows: list[Row] = []
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            problems.append(Problem(start, None, None, Msg("not readable as CSV: %(reason)s", code="not_csv",
                                                           reason=str(exc))))
            break
        if cells is None:
            break
        line = start
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise _too_large(f"{MAX_ROWS} lines")
        if len(cells) > len(fields) and any(c.strip() for c in cells[len(fields):]):
            problems.append(Problem(line, len(fields) + 1, None,
                                    Msg("more cells than the header has columns", code="wrong_cell_count")))
            continue
        rows.append(Row(line, {key: (cells[i] if i < len(cells) else "") for i, key in enumerate(fields) if key}))
    if problems:
        raise ImportRefused(problems, len(problems))
    if not rows:
        raise ImportRefused([Problem(max(line, 2), None, None, Msg("the file has no line to import",
                                                                   code="empty_file"))], 1)
    return rows


def _column_of(columns: list[str]) -> Callable[[str], int | None]:
    return lambda key: columns.index(key) + 1 if key in columns else None


def _header_fields(data: bytes, columns: dict[str, tuple[str, ...]]) -> list[str]:
    first = next(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    names = _header_map(columns)
    return [names.get(c.strip().lower(), "") for c in first]


def import_customers(actor: User, data: bytes, *, via: str = "web", ip: str | None = None,
                     path: str = "customers/import") -> Result:
    records_access.require_keep(actor, path, ip)
    rows = read_rows(data, CUSTOMER_COLUMNS, CUSTOMER_REQUIRED)
    column = _column_of(_header_fields(data, CUSTOMER_COLUMNS))
    problems: list[Problem] = []
    cleaned: list[tuple[Row, dict[str, Any], WealthCustomer | None]] = []
    numbers = [customers.identity.normalise_id(r.cells.get("id_number", "")) for r in rows]
    known = customers.holders([n for n in numbers if n])
    seen: dict[str, int] = {}
    for row in rows:
        number = customers.identity.normalise_id(row.cells.get("id_number", ""))
        existing = known.get(number)
        values, errors = customers.clean(row.cells, customers.values_of(existing) if existing else None)
        if "id_number" not in errors and number in seen:
            errors["id_number"] = Msg("the same ID number is on line %(line)s", code="duplicate", line=seen[number])
        seen.setdefault(number, row.line)
        problems += [Problem(row.line, column(k), k, m) for k, m in errors.items()]
        cleaned.append((row, values, existing))
    if problems:
        raise ImportRefused(problems, len(problems))
    result = Result()
    for _row, values, existing in cleaned:
        record = existing or WealthCustomer()
        changes = customers.apply(record, values, actor, via, "imported")
        (result.unchanged if not changes else result.updated if existing else result.created).append(record.id)
    customers.commit_unique()
    return result


def import_products(actor: User, data: bytes, *, via: str = "web", ip: str | None = None,
                    path: str = "products/import") -> Result:
    records_access.require_keep(actor, path, ip)
    rows = read_rows(data, PRODUCT_COLUMNS, PRODUCT_REQUIRED)
    column = _column_of(_header_fields(data, PRODUCT_COLUMNS))
    problems: list[Problem] = []
    cleaned: list[tuple[dict[str, Any], WealthProduct | None]] = []
    known = products.by_code([products.normalise_code(r.cells.get("code", "")) for r in rows])
    seen: dict[str, int] = {}
    for row in rows:
        code = products.normalise_code(row.cells.get("code", ""))
        existing = known.get(code)
        values, errors = products.clean(row.cells, products.values_of(existing) if existing else None)
        if "code" not in errors and code in seen:
            errors["code"] = Msg("the same code is on line %(line)s", code="duplicate", line=seen[code])
        seen.setdefault(code, row.line)
        problems += [Problem(row.line, column(k), k, m) for k, m in errors.items()]
        cleaned.append((values, existing))
    if problems:
        raise ImportRefused(problems, len(problems))
    result = Result()
    for values, existing in cleaned:
        record = existing or WealthProduct()
        changes = products.apply(record, values, actor, via, "imported")
        (result.unchanged if not changes else result.updated if existing else result.created).append(record.id)
    customers.commit_unique(products.TAKEN, "code")
    return result
