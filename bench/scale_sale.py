"""High-risk sale witnessing (Process D) cases for bench/scale_data.py: normal sales (with and without the
term warning), witnessed sales, declared and witnessed sales, refusals at the suitability decision, sales the
witness declined, and open sales waiting at each step, each driven once through the real engine.

A clone sells the template's product to another customer of the same kind (the same assessment level,
its assessment valid or expired as the template's, of an age the table treats alike: 18–64 or 65 and
over), so the decision, its rule and the products offered stay what the engine decided. Its customer's
ID number, masked name, record id and age on the clone's sale date replace the template's everywhere: the
form, the engine's state, the history (the decision's inputs, ``sale_facts``, ``sale_registered``) and the
register row, which is cloned with its case (a new id, the clone's advisor, witness, amount, recording
reference and times). ``prepare()`` adds the customers, the demo's products, and qualifications that cover
every advisor over the years cloned (a few bench staff become advisors too).

Customers' records hold their current assessment: a clone's history keeps the assessment valid on its own
(earlier) sale date, as a reassessed customer's would.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from bench.scale_data import YEARS, FamilyBuilder, People, Recorder, Shape, Slot, person_name, register_builder

PROCESS = "high_risk_sale"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
SHARE = 0.15  # against client ownership's 1.0: about a tenth of the finished cases' task rows, and of the open cases
EXTRA_ADVISORS = 6  # bench staff who also sell wealth products (the demo has two qualified advisors)
TAGS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"
REGIONS = ("440304", "440305", "440303", "440306", "110101", "310104", "320102", "430102")
# customers of each kind, (bracket, assessment level, assessment valid) → how many
POOLS = {("adult", 3, True): 140, ("adult", 2, True): 40, ("adult", 4, True): 40, ("adult", 1, True): 15,
         ("adult", 5, True): 15, ("adult", 3, False): 30, ("elderly", 3, True): 70, ("elderly", 2, True): 15}
AGES = {"adult": (24, 58), "elderly": (71, 86)}  # today: 18–64 and 65+ on every sale date of the years cloned
TEMPLATE_AGE = {"adult": 40, "elderly": 66}
AMOUNTS = {1: (5, 100), 2: (10, 500), 3: (50, 1000), 4: (100, 2000), 5: (200, 3000)}  # thousands of yuan

Users = dict[str, Any]


@dataclass(frozen=True)
class Sale:
    """One shape of sale: the customer's kind, the product, the form, and the steps after the decision."""

    kind: tuple[str, int, bool]
    product: str
    steps: tuple[str, ...]  # term / disclose / declare / witness / decline / record
    purpose: str = "general"
    horizon: int | None = None  # None: the product's term
    insists: bool = False


ADULT_C3, ELDERLY_C3 = ("adult", 3, True), ("elderly", 3, True)
# (name, sale, open, weight): finished ones by share of the finished sales, open ones of the open
SPECS: list[tuple[str, Sale, bool, float]] = [
    ("normal sale", Sale(ADULT_C3, "WM-R2-06", ("disclose",)), False, 0.30),
    ("normal sale after the term warning", Sale(ADULT_C3, "WM-R3-12", ("term", "disclose"), horizon=6),
     False, 0.08),
    ("normal sale, 65 or over within the assessment", Sale(ELDERLY_C3, "WM-R2-06", ("disclose",), purpose="pension"),
     False, 0.08),
    ("witnessed sale (65 or over, R3)", Sale(ELDERLY_C3, "WM-R3-12", ("disclose", "witness", "record")), False, 0.12),
    ("declared and witnessed sale", Sale(ADULT_C3, "WM-R4-24", ("declare", "witness", "record"), insists=True),
     False, 0.06),
    ("refused: 65 or over into R4", Sale(ELDERLY_C3, "WM-R4-24", ()), False, 0.06),
    ("refused: assessment expired", Sale(("adult", 3, False), "WM-R2-06", ()), False, 0.05),
    ("refused: above the assessment", Sale(("adult", 2, True), "WM-R4-24", ()), False, 0.05),
    ("refused: pension money into R4", Sale(("adult", 4, True), "WM-R4-24", (), purpose="pension"), False, 0.03),
    ("witness declined", Sale(ELDERLY_C3, "WM-R3-12", ("disclose", "decline")), False, 0.03),
    ("declared, witness declined", Sale(ADULT_C3, "WM-R4-24", ("declare", "decline"), insists=True), False, 0.02),
    ("open: disclosure", Sale(ADULT_C3, "WM-R2-06", ()), True, 0.30),
    ("open: term warning", Sale(ADULT_C3, "WM-R3-12", (), horizon=6), True, 0.08),
    ("open: declaration", Sale(ADULT_C3, "WM-R4-24", (), insists=True), True, 0.05),
    ("open: witness (65 or over, R3)", Sale(ELDERLY_C3, "WM-R3-12", ("disclose",)), True, 0.22),
    ("open: witness after a declaration", Sale(ADULT_C3, "WM-R4-24", ("declare",), insists=True), True, 0.08),
    ("open: recording reference", Sale(ELDERLY_C3, "WM-R3-12", ("disclose", "witness")), True, 0.20),
    ("open: recording reference after a declaration",
     Sale(ADULT_C3, "WM-R4-24", ("declare", "witness"), insists=True), True, 0.07),
]

# Filled by prepare() in the app (the cloning workers inherit them): customers of each kind as
# (id, ID number, name, birth date), the template customers by ID number, the products' ratings.
_POOL: dict[tuple[str, int, bool], list[tuple[int, str, str, dt.date]]] = {}
_TEMPLATE_CUSTOMERS: dict[int, tuple[int, str, str, dt.date]] = {}  # template k → its customer
_TEMPLATE_OF: dict[str, int] = {}  # template customer's ID number → the template's index in SPECS
_RATING: dict[str, int] = {}


# --- the template cases ---------------------------------------------------------------------------------


def _sale(spec: Sale):
    def run(rec: Recorder, u: Users, m: dict[str, str]) -> None:
        from workflows.cases.forms import Upload
        from workflows.processes.sale.demo_records import PRODUCTS

        term = next(t for code, _name, _rating, t in PRODUCTS if code == spec.product)
        rec.start(PROCESS, u["advisor"], {
            "customer": m["customer"], "product": spec.product, "amount": m["amount"], "purpose": spec.purpose,
            "horizon_months": str(spec.horizon or term), "customer_insists": "true" if spec.insists else "false",
            "guardian_present": "false"})
        for step in spec.steps:
            if step == "term":
                rec.complete("Task_TermWarning", u["advisor"], {
                    "term_warning": f"资金{spec.horizon}个月后需用，产品期限{term}个月，提前赎回受限，已向客户说明。",
                    "term_acknowledged": "acknowledged"})
            elif step == "disclose":
                rec.complete("Task_Disclosure", u["advisor"], {
                    "disclosure": "已逐条说明产品风险等级、期限与可能损失本金的情形。",
                    "customer_confirmed": "confirmed"})
            elif step == "declare":
                rec.complete("Task_Declaration", u["advisor"], {
                    "disclosure": "产品风险等级高于客户评估等级，已推荐评估等级以内的产品。",
                    "declaration_text": "本人已知悉该产品风险等级高于本人风险承受能力评估结果，坚持购买，风险自担。"},
                    uploads={"declaration_scan": Upload("特别声明.pdf", "application/pdf", PDF)})
            elif step in ("witness", "decline"):
                rec.claim("Task_Witness", u["witness"])
                if step == "witness":
                    rec.complete("Task_Witness", u["witness"], {
                        "second_warning": "再次提示：该产品不保本，可能损失本金。",
                        "customer_confirmation": "客户表示已理解风险，坚持购买。",
                        "witness_signature": "signed", "decision": "witness"})
                else:
                    rec.complete("Task_Witness", u["witness"], {
                        "decision": "decline", "comment": "客户对产品风险理解不清，不予见证，建议改购低风险产品。"})
            elif step == "record":
                rec.complete("Task_Recording", u["advisor"], {"recording_ref": m["recording"]})
    return run


SHAPES = [Shape(f"sale: {name}", _sale(spec), open=open_, weight=weight) for name, spec, open_, weight in SPECS]


# --- customers, products and advisors ---------------------------------------------------------------------


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _customer(name: str, id_number: str, birth: dt.date, level: int, valid: bool, since: dt.date,
              rng: random.Random, keeper: Any) -> Any:
    """A customer entered by the retail head before the years cloned, with their current assessment: made
    within the last year (valid), or years before any cloned sale and never renewed (expired)."""
    from workflows.engine import clock
    from workflows.processes.sale import customers
    from workflows.processes.sale.models import WealthCustomer

    today = clock.today()
    assessed = today - dt.timedelta(days=rng.randint(10, 330)) if valid else \
        since - dt.timedelta(days=rng.randint(400, 1500))
    created = dt.datetime.combine(since - dt.timedelta(days=rng.randint(1, 300)), dt.time(2, rng.randint(0, 59)))
    values = {"name": name, "id_number": id_number, "birth_date": birth, "phone": f"139{rng.randint(0, 10**8 - 1):08d}",
              "risk_level": level, "assessed_on": assessed,
              "assessment_expires_on": _years_before(assessed, -1) - dt.timedelta(days=1),
              "guardian_name": None, "guardian_id_number": None, "guardian_relation": None, "active": True}
    record = WealthCustomer(created_at=created)
    customers.apply(record, values, keeper, "seed", "created")
    return record


def _qualify(advisor: Any, since: dt.date, keeper: Any, n: int) -> int:
    """Five-year certificates back to back from before ``since`` to beyond today (none revoked)."""
    from sqlalchemy import select

    from workflows.db import db
    from workflows.engine import clock
    from workflows.processes.sale.models import AdvisorQualification

    today = clock.today()
    rows = list(db.session.scalars(select(AdvisorQualification).where(
        AdvisorQualification.user_id == advisor.id, AdvisorQualification.revoked_at.is_(None))))
    first = min((r.qualified_on for r in rows if r.expires_on >= today), default=None)
    if first is None:  # a new advisor: a certificate running now
        first = today - dt.timedelta(days=700)
        _certificate(advisor, first, _years_before(first, -5) - dt.timedelta(days=1), keeper, n)
        n += 1
    while first > since:
        until = first - dt.timedelta(days=1)
        first = _years_before(until, 5) + dt.timedelta(days=1)
        _certificate(advisor, first, until, keeper, n)
        n += 1
    db.session.flush()
    return n


def _certificate(advisor: Any, since: dt.date, until: dt.date, keeper: Any, n: int) -> Any:
    from workflows.db import db
    from workflows.processes.sale import records_history
    from workflows.processes.sale.models import AdvisorQualification

    number = f"LC-{since.year}-{9000 + n:04d}"
    row = AdvisorQualification(user_id=advisor.id, certificate_no=number, qualified_on=since, expires_on=until,
                               recorded_by_id=keeper.id, recorded_at=dt.datetime.combine(since, dt.time(2)))
    db.session.add(row)
    db.session.flush()
    records_history.write("qualification", row.id, "created", {
        "user": [None, advisor.username], "certificate_no": [None, number],
        "qualified_on": [None, since.isoformat()], "expires_on": [None, until.isoformat()]}, keeper, "seed")
    return row


def _advisors(people: People, since: dt.date, keeper: Any) -> list[int]:
    """The demo's advisors qualified today, and a few bench staff (of different teams) who sell too; each
    qualified over every year cloned."""
    from sqlalchemy import select

    from workflows.branch.models import User, UserRole
    from workflows.db import db
    from workflows.processes.sale import qualifications

    chosen = [u for u in db.session.scalars(select(User).where(User.id.in_(people.by_role.get("advisor", [])))
                                            .order_by(User.id)) if qualifications.current(u) is not None]
    teams = {u.unit_id for u in chosen}
    bench_staff = db.session.scalars(select(User).where(User.id.in_(people.by_role.get("staff", [])),
                                                        User.username.like("staffx%")).order_by(User.id.desc()))
    wanted = len(chosen) + EXTRA_ADVISORS
    for user in bench_staff:
        if len(chosen) >= wanted:
            break
        if user.unit_id in teams:
            continue
        teams.add(user.unit_id)
        db.session.add(UserRole(user_id=user.id, role_key="advisor"))
        people.by_role.setdefault("advisor", []).append(user.id)
        chosen.append(user)
    n = 0
    for user in chosen:
        n = _qualify(user, since, keeper, n)
    return [u.id for u in chosen]


def prepare(people: People) -> None:
    """The demo's customers, products and qualifications, a few hundred customers of every kind the sales
    need, a customer for each template, and the advisors."""
    from sqlalchemy import select

    from workflows.branch.models import User
    from workflows.db import db
    from workflows.engine import clock
    from workflows.processes.sale import demo_records, identity
    from workflows.processes.sale.models import WealthCustomer, WealthProduct

    rng = random.Random(11)
    demo_records.records_samples()
    keeper = db.session.scalars(select(User).where(User.username == "retail")).one()
    today = clock.today()
    since = today - dt.timedelta(days=366 * (YEARS + 1))
    people.by_role["sale_advisor"] = _advisors(people, since, keeper)
    _RATING.update({p.code: p.risk_rating for p in db.session.scalars(select(WealthProduct))})
    taken = set(db.session.scalars(select(WealthCustomer.id_number)))

    def new_id(birth: dt.date) -> str:
        while True:
            number = identity.make_prc_id(rng.choice(REGIONS), birth, rng.randint(1, 999))
            if number not in taken:
                taken.add(number)
                return number

    made: list[tuple[tuple[str, int, bool], Any]] = []
    n = 0
    for kind, count in POOLS.items():
        low, high = AGES[kind[0]]
        for _ in range(count):
            birth = _years_before(today, rng.randint(low, high)) - dt.timedelta(days=rng.randint(1, 360))
            made.append((kind, _customer(person_name(50_000 + n * 13), new_id(birth), birth, kind[1], kind[2],
                                         since, rng, keeper)))
            n += 1
    for k, (_name, spec, _open, _w) in enumerate(SPECS):
        birth = _years_before(today, TEMPLATE_AGE[spec.kind[0]]) - dt.timedelta(days=30)
        tag = TAGS[k % len(TAGS)] + TAGS[-1 - k // len(TAGS)]
        record = _customer(f"{tag}模板客户", new_id(birth), birth, spec.kind[1], spec.kind[2], since, rng, keeper)
        made.append((("template", k, True), record))
    db.session.commit()
    for kind, c in made:
        row = (c.id, c.id_number, c.name, c.birth_date)
        if kind[0] == "template":
            _TEMPLATE_CUSTOMERS[kind[1]] = row
            _TEMPLATE_OF[c.id_number] = kind[1]
        else:
            _POOL.setdefault(kind, []).append(row)


# --- markers and clones' values -------------------------------------------------------------------------------


def markers(k: int) -> dict[str, str]:
    """Template ``k``'s customer (ID number, masked name, record id, age), an amount, the sale date and a
    recording reference found nowhere else."""
    from workflows.engine import clock
    from workflows.processes.sale.register import masked_name
    from workflows.processes.sale.suitability import age_on

    cid, number, name, birth = _TEMPLATE_CUSTOMERS[k]
    today = clock.today()
    return {"customer": number, "masked": masked_name(name), "wealth_customer": str(cid),
            "age": str(age_on(birth, today)), "amount": f"{123400 + k}.56", "sale_date": today.isoformat(),
            "recording": f"SL-{today:%Y%m%d}-8{k:03d}77"}


def values(i: int, rng: random.Random, m: dict[str, str], started: dt.datetime) -> dict[str, str]:
    """Clone ``i``'s customer (of the template's kind, their age on the clone's sale date), amount, sale date
    and recording reference (dated the sale day)."""
    from workflows.engine import clock
    from workflows.processes.sale.register import masked_name
    from workflows.processes.sale.suitability import age_on

    spec = SPECS[_TEMPLATE_OF[m["customer"]]][1]
    day = clock.local(started).date()
    cid, number, name, birth = rng.choice(_POOL[spec.kind])
    low, high = AMOUNTS[_RATING[spec.product]]
    return {"customer": number, "masked": masked_name(name), "wealth_customer": str(cid),
            "age": str(age_on(birth, day)), "amount": str(rng.randint(low, high) * 1000), "sale_date": day.isoformat(),
            "recording": f"SL-{day:%Y%m%d}-{rng.randint(1, 9999):04d}"}


BUILDER = register_builder(FamilyBuilder(
    family_key="sale",
    process_keys=frozenset({PROCESS}),
    slots={"advisor": Slot("sale_advisor"), "witness": Slot("retail_head")},
    shapes=SHAPES,
    markers=markers,
    values=values,
    # the register row's id in the state and history; the customer's record id and age (numbers, not text)
    id_keys={"sale_record": "sale_record", "customer_record": "wealth_customer",
             "_customer_record": "wealth_customer", "age": "age"},
    share=SHARE,
    prepare=prepare,
    numbers=frozenset({"wealth_customer", "age"}),
))
