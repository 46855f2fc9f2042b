"""Validating submitted form data against a task's form definition.

Values come from browsers and API clients as strings; they leave here typed
(int, Decimal, bool, ISO date string, option id) or as a per-field message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from workflows.engine.dialect import FormField
from workflows.engine.sandbox import RestrictedEnvironment
from workflows.errors import Invalid, Msg

DEFAULT_MAX_UPLOAD = 5 * 1024 * 1024
DEFAULT_ACCEPT = {".pdf", ".png", ".jpg", ".jpeg"}
CONTENT_SIGNATURES = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}
TRUE = {"true", "1", "yes", "on", "y"}
FALSE = {"false", "0", "no", "off", "n"}
MAX_NUMBER_TEXT = 60
MAX_DECIMAL_PLACES = 10
MAX_NUMBER = 10**15  # no amount or count is larger; keeps arithmetic on values exact
MAX_TEXT = {"string": 500, "text": 4000}  # characters, when the diagram sets no maxlength
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2200, 12, 31)

# Characters no text may hold: control characters (NUL is refused by PostgreSQL and kept by
# SQLite), lone surrogates (no encoding can store them) and bidirectional overrides (they
# make a name read differently from what it is). Multi-line text keeps tab and line breaks.
_BAD_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_BAD_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
CONTROL_CHARACTERS = Msg("must not contain control characters", code="control_characters")
REQUIRED = Msg("this field is required", code="required")
# A field whose ``requiredWhen`` holds: the same code, a program needs the value either way.
REQUIRED_HERE = Msg("this field is required here", code="required")
FILE_REQUIRED_HERE = Msg("this field is required here", code="file_required")
NOT_AN_OPTION = Msg("not one of the allowed options", code="not_an_option")
NOT_A_WHOLE_NUMBER = Msg("must be a whole number", code="not_a_whole_number")
NOT_YES_OR_NO = Msg("must be yes or no", code="not_yes_or_no")
NUMBER_TOO_LARGE = Msg("number too large", code="number_too_large")
NOT_A_FILE = Msg("not a valid file", code="not_a_file")
UNKNOWN_FIELD = Msg("this step has no such field", code="unknown_field")
READ_ONLY = Msg("this field cannot be changed at this step", code="read_only")


def has_control_characters(text: str, multiline: bool = False) -> bool:
    """True when ``text`` holds a character no field may store (see above)."""
    return (_BAD_IN_TEXT if multiline else _BAD_IN_LINE).search(text) is not None


def escaped(text: str, limit: int = 200) -> str:
    """``text`` with those characters written as escapes: safe for the security log."""
    return _BAD_IN_LINE.sub(lambda m: ascii(m.group())[1:-1], text[:limit])


@dataclass(frozen=True)
class Constraints:
    """What ``validate`` enforces on one field, the implicit limits included. The checks below
    read their limits from here and the API describes fields with it, so the two cannot drift."""

    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None  # the whole value must match (re.fullmatch)
    multiline: bool = False  # text keeps tabs and line breaks; no other control characters anywhere
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    max_decimal_places: int | None = None
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    accept: tuple[str, ...] = ()  # file extensions, lower case with the dot
    max_size: int | None = None  # bytes


def constraints(ff: FormField) -> Constraints:
    """The effective constraints of ``ff``: the diagram's, else the defaults validate applies."""
    if ff.type in MAX_TEXT:
        return Constraints(min_length=ff.min_length, pattern=ff.pattern, multiline=ff.type == "text",
                           max_length=ff.max_length if ff.max_length is not None else MAX_TEXT[ff.type])
    if ff.type in ("long", "decimal"):
        low, high = Decimal(-MAX_NUMBER), Decimal(MAX_NUMBER)
        return Constraints(minimum=max(ff.minimum, low) if ff.minimum is not None else low,
                           maximum=min(ff.maximum, high) if ff.maximum is not None else high,
                           max_decimal_places=MAX_DECIMAL_PLACES if ff.type == "decimal" else 0)
    if ff.type == "date":
        return Constraints(first_day=FIRST_DAY, last_day=LAST_DAY)
    if ff.type == "file":
        return Constraints(accept=tuple(sorted(ff.accept or DEFAULT_ACCEPT)),
                           max_size=ff.max_size if ff.max_size is not None else DEFAULT_MAX_UPLOAD)
    return Constraints()


@dataclass
class Upload:
    """A file handed in with a form: the web layer builds these from requests."""

    filename: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _check_upload(ff: FormField, upload: Upload) -> str | None:
    limits = constraints(ff)
    accept, limit = limits.accept, limits.max_size or 0
    name = upload.filename or ""
    if has_control_characters(name) or has_control_characters(upload.content_type or ""):
        return Msg("the file name contains characters that are not allowed", code="control_characters")
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if ext not in accept:
        return Msg("file type not allowed (allowed: %(types)s)", code="file_type", types=", ".join(accept))
    if len(upload.content) == 0:
        return Msg("the file is empty", code="file_empty")
    if len(upload.content) > limit:
        return Msg("file larger than %(kb)s KB", code="file_too_large", kb=limit // 1024)
    signatures = CONTENT_SIGNATURES.get(ext)
    if signatures and not upload.content.startswith(signatures):
        return Msg("file content does not match its type", code="file_content_mismatch")
    return None


def validate(fields: list[FormField], raw: dict[str, Any], uploads: dict[str, Upload] | None = None,
             current: dict[str, Any] | None = None, *,
             known_only: bool = False) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Return (clean values, accepted uploads) or raise Invalid with a message per field.

    ``known_only`` (the API) refuses keys that are not fields of this form, and keys of its
    read-only fields, instead of ignoring them: a misspelt key must not be dropped unseen.
    Pages post their own keys (the CSRF token, buttons) and leave it off."""
    uploads = uploads or {}
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    if not isinstance(raw, dict):
        raise Invalid("form data must be an object")
    if known_only:
        errors.update(_misplaced_keys(fields, raw, uploads))
    for ff in fields:
        if ff.readonly or ff.id in errors:
            continue
        if ff.type == "file":
            upload = uploads.get(ff.id)
            if upload is None:
                if ff.required and not (current or {}).get(ff.id):
                    errors[ff.id] = Msg("a file is required", code="file_required")
                continue
            problem = _check_upload(ff, upload)
            if problem:
                errors[ff.id] = problem
            else:
                files[ff.id] = upload
            continue
        value = raw.get(ff.id)
        if isinstance(value, (list, dict)):
            errors[ff.id] = Msg("must be a single value", code="single_value")
            continue
        text = _text(value)
        if text == "":
            if ff.required:
                errors[ff.id] = REQUIRED
            elif ff.type == "boolean":
                clean[ff.id] = False
            else:
                clean[ff.id] = None
            continue
        try:
            clean[ff.id] = _convert(ff, text)
        except ValueError as exc:
            errors[ff.id] = exc.args[0] if exc.args else Msg("invalid value", code="invalid")
    env = RestrictedEnvironment()
    for ff in fields:
        condition = ff.required_when
        if condition and clean.get(ff.id) in (None, "") and ff.id not in errors and ff.id not in files:
            try:
                needed = bool(env.evaluate(condition, {**(current or {}), **clean}))
            except Exception:  # noqa: BLE001 - a missing value simply means "not required"
                needed = False
            if needed:
                errors[ff.id] = FILE_REQUIRED_HERE if ff.type == "file" else REQUIRED_HERE
    if errors:
        raise Invalid("please correct the highlighted fields", errors)
    return clean, files


def _misplaced_keys(fields: list[FormField], raw: dict[str, Any], uploads: dict[str, Upload]) -> dict[str, str]:
    """A message for each key that is no field of the form or a read-only one, and for a
    file where a value belongs or a value where a file belongs."""
    by_id = {ff.id: ff for ff in fields}
    found: dict[str, str] = {}
    for key in [*raw, *uploads]:
        ff = by_id.get(key)
        if ff is None:
            found[key] = UNKNOWN_FIELD
        elif ff.readonly:
            found[key] = READ_ONLY
        elif key in uploads and ff.type != "file":
            found[key] = Msg("must be a single value", code="single_value")
        elif key in raw and ff.type == "file" and raw[key] not in (None, ""):
            found[key] = NOT_A_FILE
    return found


def _convert(ff: FormField, text: str) -> Any:
    limits = constraints(ff)
    if ff.type in MAX_TEXT:
        if limits.max_length is not None and len(text) > limits.max_length:
            raise ValueError(Msg("at most %(n)s characters", code="too_long", n=limits.max_length))
        if has_control_characters(text, multiline=limits.multiline):
            raise ValueError(CONTROL_CHARACTERS)
        if limits.min_length is not None and len(text) < limits.min_length:
            raise ValueError(Msg("at least %(n)s characters", code="too_short", n=limits.min_length))
        if limits.pattern and not re.fullmatch(limits.pattern, text):
            raise ValueError(Msg("not in the expected format", code="pattern"))
        return text
    if ff.type in ("long", "decimal"):
        number = _number(ff.type, text, limits.max_decimal_places or 0)
        if abs(number) > MAX_NUMBER:
            raise ValueError(NUMBER_TOO_LARGE)
        if limits.minimum is not None and number < limits.minimum:
            raise ValueError(Msg("must be at least %(n)s", code="too_small", n=limits.minimum))
        if limits.maximum is not None and number > limits.maximum:
            raise ValueError(Msg("must be at most %(n)s", code="too_large", n=limits.maximum))
        return number
    if ff.type == "boolean":
        low = text.lower()
        if low in TRUE:
            return True
        if low in FALSE:
            return False
        raise ValueError(NOT_YES_OR_NO)
    if ff.type == "date":
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(Msg("must be a date (YYYY-MM-DD)", code="not_a_date")) from None
        if not (limits.first_day or FIRST_DAY) <= day <= (limits.last_day or LAST_DAY):
            raise ValueError(Msg("date out of range", code="date_out_of_range"))
        return day.isoformat()
    if ff.type == "enum":
        if text not in {opt for opt, _ in ff.options}:
            raise ValueError(NOT_AN_OPTION)
        return text
    raise ValueError(Msg("unsupported field type", code="invalid"))


def _number(kind: str, text: str, places: int) -> int | Decimal:
    """A whole number or a decimal, refusing what would overflow later: ``1e1000000`` is a
    valid Decimal, but any arithmetic on it (even ``abs``) raises decimal.Overflow."""
    message = NOT_A_WHOLE_NUMBER if kind == "long" else Msg("must be a number", code="not_a_number")
    if len(text) > MAX_NUMBER_TEXT:
        raise ValueError(NUMBER_TOO_LARGE if re.fullmatch(r"[-+]?[0-9,]+", text) else message)
    try:
        number: int | Decimal = int(text) if kind == "long" else Decimal(text.replace(",", ""))
    except (ValueError, InvalidOperation):
        raise ValueError(message) from None
    if isinstance(number, Decimal):
        if not number.is_finite():
            raise ValueError(message)
        if number.is_zero():
            return Decimal(0)
        if number.adjusted() > 15:
            raise ValueError(NUMBER_TOO_LARGE)
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -places:
            raise ValueError(Msg("at most %(n)s decimal places", code="too_many_decimals", n=places))
    return number
