"""Identity-document numbers of wealth customers and their guardians: normalised the way the client
registry stores them (``ownership.rules.normalise_id``), and, for a PRC resident identity card
(18 characters), checked against its checksum and its birth date."""

from __future__ import annotations

import datetime as dt
import re

from workflows.errors import Msg
from workflows.processes.ownership.rules import normalise_id

__all__ = ["check", "is_prc_id", "make_prc_id", "normalise_id", "prc_birth_date"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PRC = re.compile(r"\d{17}[\dX]")
_OTHER = re.compile(r"[A-Z0-9][A-Z0-9()-]{4,39}")  # passports, HK/Macau/Taiwan permits: letters and digits

NOT_AN_ID = Msg("not an identity-document number (an 18-character resident ID card, or a passport or permit "
                "number of letters and digits)", code="id_format")
BAD_CHECKSUM = Msg("the resident ID card number's last character does not match (checksum)", code="id_checksum")
BAD_BIRTH = Msg("the resident ID card number holds no valid date of birth", code="id_birth_date")


def is_prc_id(number: str) -> bool:
    return _PRC.fullmatch(number) is not None


def checksum_char(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def prc_birth_date(number: str) -> dt.date | None:
    """The date of birth an 18-character resident ID card number holds (None: not a real date)."""
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def check(number: str) -> Msg | None:
    """Why the (normalised) number is not acceptable, or None. All-digit numbers must be resident ID
    cards: a digit too many or too few is a typing mistake, not another kind of document."""
    if is_prc_id(number):
        if number[17] != checksum_char(number[:17]):
            return BAD_CHECKSUM
        birth = prc_birth_date(number)
        if birth is None or birth.year < 1900:
            return BAD_BIRTH
        return None
    digits_only = number.rstrip("X").isdigit()
    if digits_only or _OTHER.fullmatch(number) is None or not any(c.isalpha() for c in number):
        return NOT_AN_ID
    return None


def make_prc_id(region: str, birth: dt.date, sequence: int) -> str:
    """A well-formed resident ID card number (for demo data and tests): 6-digit region, birth date,
    3-digit sequence (odd: male, even: female) and its checksum."""
    first17 = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first17 + checksum_char(first17)
