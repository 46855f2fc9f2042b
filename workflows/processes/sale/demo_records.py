"""The demo branch's wealth records: five customers (one with an expired assessment, one a minor with a
verified guardian), five products R1–R5, and the advisors' qualifications (one expired)."""

from __future__ import annotations

import datetime as dt
import struct
import zlib

from sqlalchemy import select

from workflows.branch.models import User
from workflows.cases.forms import Upload
from workflows.db import db
from workflows.engine import clock
from workflows.processes.sale import customers, identity, products, records_history
from workflows.processes.sale.models import AdvisorQualification, WealthCustomer, WealthProduct

D = dt.date
# name, region, birth, sequence (odd: male), phone, level, assessed, expires
CUSTOMERS = (
    ("王秀英", "110101", D(1960, 3, 15), 22, "13901010001", 3, D(2026, 3, 1), D(2027, 2, 28)),
    ("陈志强", "440305", D(1986, 7, 2), 31, "13902020002", 4, D(2026, 5, 10), D(2027, 5, 9)),
    ("刘洋", "310104", D(1992, 11, 30), 15, "13903030003", 2, D(2026, 1, 20), D(2027, 1, 19)),
    ("张桂兰", "320102", D(1958, 1, 9), 48, "13904040004", 5, D(2025, 10, 1), D(2026, 9, 30)),
    ("周子涵", "440305", D(2010, 5, 20), 26, None, 2, D(2026, 6, 1), D(2027, 5, 31)),
)
GUARDIAN = ("周建国", identity.make_prc_id("440305", D(1982, 8, 8), 17), "father")
PRODUCTS = (("WM-R1-03", "稳健货币理财", 1, 3), ("WM-R2-06", "安心债券理财", 2, 6), ("WM-R3-12", "平衡配置理财", 3, 12),
            ("WM-R4-24", "成长股票基金", 4, 24), ("WM-R5-36", "私募股权精选", 5, 36))
QUALIFICATIONS = (("advisor1", "LC-2023-0001", D(2023, 1, 1), D(2028, 12, 31)),
                  ("advisor2", "LC-2023-0002", D(2023, 1, 1), D(2028, 12, 31)),
                  ("advisor3", "LC-2021-0003", D(2021, 7, 1), D(2026, 6, 30)))


def id_number(name: str) -> str:
    """A demo customer's ID number, by name (for tests and the sale samples)."""
    for row in CUSTOMERS:
        if row[0] == name:
            return identity.make_prc_id(row[1], row[2], row[3])
    raise KeyError(name)


def scan_png() -> bytes:
    """A small grey PNG standing for the scan of an identity card."""
    width, height = 32, 20
    raw = b"".join(b"\x00" + b"\xc8" * width for _ in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def records_samples() -> None:
    """Write what is missing (run again, it adds nothing), as the retail head would have entered it."""
    keeper = db.session.scalars(select(User).where(User.username == "retail")).first()
    if keeper is None:
        return
    for name, region, birth, seq, phone, level, assessed, expires in CUSTOMERS:
        number = identity.make_prc_id(region, birth, seq)
        if db.session.scalars(select(WealthCustomer).where(WealthCustomer.id_number == number)).first():
            continue
        guardian = GUARDIAN if name == "周子涵" else (None, None, None)
        values = {"name": name, "id_number": number, "birth_date": birth, "phone": phone, "risk_level": level,
                  "assessed_on": assessed, "assessment_expires_on": expires, "guardian_name": guardian[0],
                  "guardian_id_number": guardian[1], "guardian_relation": guardian[2], "active": True}
        record = WealthCustomer(created_at=clock.now())
        customers.apply(record, values, keeper, "seed", "created")
        db.session.commit()
        if guardian[0]:
            scan = Upload("监护人身份证.png", "image/png", scan_png())
            customers.verify_guardian(keeper, record.id, scan, via="seed")
    for code, title, rating, term in PRODUCTS:
        if db.session.scalars(select(WealthProduct).where(WealthProduct.code == code)).first():
            continue
        products.apply(WealthProduct(created_at=clock.now()), {"code": code, "name": title, "risk_rating": rating,
                                                               "term_months": term, "active": True},
                       keeper, "seed", "created")
    for username, certificate, since, until in QUALIFICATIONS:
        person = db.session.scalars(select(User).where(User.username == username)).first()
        if person is None or db.session.scalars(select(AdvisorQualification).where(
                AdvisorQualification.certificate_no == certificate)).first():
            continue
        row = AdvisorQualification(user_id=person.id, certificate_no=certificate, qualified_on=since,
                                   expires_on=until, recorded_by_id=keeper.id, recorded_at=clock.now())
        db.session.add(row)
        db.session.flush()
        records_history.write("qualification", row.id, "created", {
            "user": [None, username], "certificate_no": [None, certificate], "qualified_on": [None, since.isoformat()],
            "expires_on": [None, until.isoformat()]}, keeper, "seed")
    db.session.commit()
