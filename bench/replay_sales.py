"""The past sales of bench/replay.py: realistic suitability inputs, and real high-risk sales run through the
engine from their start form to their register entry.

The mix is a branch's, not a uniform draw: most customers are 18–59, a sizeable share 60–64 and 65 or
over, a few minors (most with a verified guardian); C2–C3 and R2–R3 are the common levels; most products
sold are the advisor's proposal at or just below the customer's assessment, the rest what the customer
asked for; most money is general, some purpose-bound; a customer insists mostly when the product is above
the assessment; some assessments have expired or were never made. Inputs have the shape
``suitability.decision_inputs`` gives them (a level of 0 when never assessed, guardian_verified only for a
minor whose guardian came and whose document is on file), so the copied decisions look like the real ones.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from workflows.branch.models import User
from workflows.cases import commands
from workflows.cases.forms import Upload
from workflows.cases.models import HumanTask, ProcessInstance
from workflows.db import db
from workflows.engine import clock
from workflows.processes.sale import SALE_PROCESS, customers, identity
from workflows.processes.sale.demo_records import records_samples, scan_png
from workflows.processes.sale.models import WealthCustomer, WealthProduct

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
REGIONS = ("110101", "310104", "440305", "320102", "330106", "510107")
ADVISORS = ("advisor1", "advisor2")  # qualified by the demo's records (advisor3's qualification has expired)
_seq = itertools.count(1)


@dataclass(frozen=True)
class Profile:
    """A customer as the retail head recorded them: age on the sale date, assessment and guardian."""

    age: int
    level: int | None  # C1–C5; None: never assessed
    valid: bool  # the assessment is unexpired on the sale date
    guardian: bool  # a minor's guardian is on the record
    verified: bool  # ... and their identity document was checked and copied


def _pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), list(weights.values()))[0]


def profile(rng: random.Random) -> Profile:
    band = _pick(rng, {"minor": 0.04, "adult": 0.54, "sixties": 0.14, "elderly": 0.28})
    age = {"minor": (8, 17), "adult": (18, 59), "sixties": (60, 64), "elderly": (65, 88)}[band]
    assessed = _pick(rng, {"valid": 0.90, "expired": 0.06, "never": 0.04})
    level = None if assessed == "never" else _pick(rng, {1: 0.12, 2: 0.28, 3: 0.32, 4: 0.18, 5: 0.10})
    minor = band == "minor"
    guardian = minor and rng.random() < 0.9
    return Profile(rng.randint(*age), level, assessed == "valid", guardian, guardian and rng.random() < 0.8)


def sale_terms(rng: random.Random, who: Profile) -> dict[str, Any]:
    """Product rating, purpose, whether the customer insists and whether the guardian came along."""
    if who.level and rng.random() < 0.6:  # mostly what the advisor proposes: at or just below the assessment
        rating = rng.randint(max(1, who.level - 1), who.level)
    else:  # what the customer asked for
        rating = _pick(rng, {1: 0.15, 2: 0.25, 3: 0.30, 4: 0.18, 5: 0.12})
    purposes = ({"general": 0.4, "education": 0.6} if who.age < 18
                else {"general": 0.7, "pension": 0.1, "retirement": 0.1, "education": 0.1})
    above = rating > (who.level or 0)
    return {"product_rating": rating, "purpose": _pick(rng, purposes),
            "customer_insists": rng.random() < (0.35 if above else 0.05),
            "guardian_present": who.guardian and rng.random() < 0.9}


def sale_inputs(rng: random.Random) -> dict[str, Any]:
    """The seven inputs of one past sale, as the sale process computes them."""
    who = profile(rng)
    terms = sale_terms(rng, who)
    return {"age": who.age, "assessment_valid": who.valid, "assessment_level": who.level or 0,
            "product_rating": terms["product_rating"], "purpose": terms["purpose"],
            "customer_insists": terms["customer_insists"],
            "guardian_verified": bool(terms["guardian_present"] and who.verified)}


def _birth(age: int, rng: random.Random) -> dt.date:
    """A birth date making the customer exactly ``age`` today (not on a birthday's edge)."""
    today = clock.today()
    try:
        anniversary = today.replace(year=today.year - age)
    except ValueError:
        anniversary = today.replace(year=today.year - age, day=28)
    return anniversary - dt.timedelta(days=rng.randint(2, 360))


def _customer(who: Profile, rng: random.Random, keeper: User) -> WealthCustomer:
    """The customer written as the records pages write one (history row), the guardian verified with a scan."""
    today, n = clock.today(), next(_seq)
    birth = _birth(who.age, rng)
    if who.level is None:
        assessed, expires = None, None
    elif who.valid:
        assessed = today - dt.timedelta(days=rng.randint(10, 330))
        expires = assessed + dt.timedelta(days=364)
    else:
        assessed = today - dt.timedelta(days=rng.randint(400, 700))
        expires = assessed + dt.timedelta(days=364)
    guardian = ((f"监护人{n}", identity.make_prc_id(REGIONS[n % 6], _birth(who.age + 30, rng), 2 * n + 1), "mother")
                if who.guardian else (None, None, None))
    values = {"name": f"客户{n:04d}", "id_number": identity.make_prc_id(REGIONS[n % 6], birth, 2 * n),
              "birth_date": birth, "phone": None, "risk_level": who.level, "assessed_on": assessed,
              "assessment_expires_on": expires, "guardian_name": guardian[0], "guardian_id_number": guardian[1],
              "guardian_relation": guardian[2], "active": True}
    record = WealthCustomer(created_at=clock.now())
    customers.apply(record, values, keeper, "bench", "created")
    db.session.commit()
    if who.verified:
        customers.verify_guardian(keeper, record.id, Upload("监护人身份证.png", "image/png", scan_png()), via="bench")
    return record


def _person(username: str) -> User:
    return db.session.scalars(select(User).where(User.username == username)).one()


def _step(instance: ProcessInstance, rng: random.Random, ref: int) -> bool:
    """Complete the case's open step as its people would; False when nothing is open."""
    task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                      HumanTask.state == "open")).first()
    if task is None:
        return False
    uploads = None
    if task.spec_id == "Task_Witness":
        actor = _person(rng.choice(("retail", "gm")))
        data: dict[str, Any] = ({"second_warning": "二次风险提示：该产品不保本，可能损失本金。",
                                 "customer_confirmation": "客户表示已理解风险，确认购买。",
                                 "witness_signature": "signed", "decision": "witness"} if rng.random() < 0.9 else
                                {"decision": "decline", "comment": "客户对风险的理解不足，不予见证。"})
    else:
        actor = instance.started_by
        data = {"Task_TermWarning": {"term_warning": "资金可投资期限短于产品期限，提前赎回受限。",
                                     "term_acknowledged": "acknowledged"},
                "Task_Disclosure": {"disclosure": "已说明产品风险等级、期限与可能损失本金的情形。",
                                    "customer_confirmed": "confirmed"},
                "Task_Declaration": {"disclosure": "产品风险等级高于客户评估等级，已推荐合适产品。",
                                     "declaration_text": "本人坚持购买该产品，已知悉风险超出本人承受能力。"},
                "Task_Recording": {"recording_ref": f"SL-{clock.today():%Y%m%d}-{ref:04d}"}}[task.spec_id]
        if task.spec_id == "Task_Declaration":
            uploads = {"declaration_scan": Upload("declaration.pdf", "application/pdf", PDF)}
    if task.assigned_user_id is None:
        commands.claim(task.id, actor, via="bench")
    commands.complete_task(task.id, actor, data, via="bench", uploads=uploads)
    return True


def real_sales(count: int, rng: random.Random) -> list[ProcessInstance]:
    """``count`` sales of new customers started by a qualified advisor and taken to their end (refused,
    completed, or declined by the witness): the demo's products and qualifications are written first."""
    records_samples()
    keeper = _person("retail")
    products = {p.risk_rating: p for p in db.session.scalars(select(WealthProduct).where(WealthProduct.active))}
    done = []
    for n in range(count):
        who = profile(rng)
        terms = sale_terms(rng, who)
        customer, product = _customer(who, rng, keeper), products[terms["product_rating"]]
        horizon = product.term_months if rng.random() < 0.85 else max(1, product.term_months // 2)
        form = {"customer": customer.id_number, "product": product.code, "amount": str(rng.randint(1, 60) * 10_000),
                "purpose": terms["purpose"], "horizon_months": str(horizon),
                "customer_insists": "true" if terms["customer_insists"] else "false",
                "guardian_present": "true" if terms["guardian_present"] else "false"}
        instance = commands.start_case(SALE_PROCESS, _person(ADVISORS[n % 2]), form, via="bench")
        while _step(instance, rng, n + 1):
            db.session.refresh(instance)
        db.session.refresh(instance)
        assert instance.status == "completed", f"sale {instance.id} stopped at {instance.status}"
        done.append(instance)
    return done
