"""Sample high-risk sales for the demo branch, one in every state, so the witness inbox and the sale register
are not empty. Runs after the customer and product samples (it finds the customers by name and the products
by code; a missing one skips the sale that needs it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from workflows.branch.models import User
from workflows.cases.models import HumanTask, ProcessInstance
from workflows.db import db
from workflows.engine import clock
from workflows.processes.sale import SALE_PROCESS
from workflows.processes.sale.models import WealthCustomer, WealthProduct

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _person(username: str) -> User | None:
    return db.session.scalars(select(User).where(User.username == username)).first()


def _step(instance: ProcessInstance, spec_id: str, username: str, data: dict[str, Any], **kw: Any) -> None:
    from workflows.cases import commands

    task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                      HumanTask.spec_id == spec_id, HumanTask.state == "open")).one()
    actor = _person(username)
    assert actor is not None
    if task.assigned_user_id is None:
        commands.claim(task.id, actor, via="seed")
    commands.complete_task(task.id, actor, data, via="seed", **kw)


def _disclose(instance: ProcessInstance, advisor: str) -> None:
    _step(instance, "Task_Disclosure", advisor, {
        "disclosure": "已逐条说明产品风险等级、期限与可能损失本金的情形。 "
                      "Risks, term and possible loss of principal explained.",
        "customer_confirmed": "confirmed"})


def _witness(instance: ProcessInstance, who: str) -> None:
    _step(instance, "Task_Witness", who, {
        "second_warning": "再次提示：该产品不保本，可能损失本金。 Second warning: principal is not guaranteed.",
        "customer_confirmation": "客户表示已理解风险，坚持购买。 The customer understands and confirms the purchase.",
        "witness_signature": "signed", "decision": "witness"})


def _recording(instance: ProcessInstance, advisor: str, seq: int) -> None:
    _step(instance, "Task_Recording", advisor, {"recording_ref": f"SL-{clock.today():%Y%m%d}-{seq:04d}"})


def sale_samples() -> None:
    """The demo's sales (see :func:`samples_for`). Idempotent: nothing when any sale exists."""
    from workflows.cases.definitions import latest

    if latest(SALE_PROCESS, required=False) is None:
        return
    if db.session.scalar(select(func.count(ProcessInstance.id)).where(ProcessInstance.process_key == SALE_PROCESS)):
        return
    customers = {c.name: c for c in db.session.scalars(select(WealthCustomer).where(WealthCustomer.active.is_(True))
                                                       .order_by(WealthCustomer.id))}
    products = {p.code: p for p in db.session.scalars(select(WealthProduct).where(WealthProduct.active.is_(True)))}
    samples_for(customers, products)


def samples_for(customers: dict[str, WealthCustomer], products: dict[str, WealthProduct]) -> dict[str, Any]:
    """A normal sale after a term warning, a witnessed sale, one waiting for its witness, a declared and
    witnessed sale, the R4 refusal of the 66-year-old customer, and a minor's sale with the guardian."""
    from workflows.cases import commands
    from workflows.cases.forms import Upload

    def sale(advisor: str, name: str, code: str, amount: str, **extra: Any) -> ProcessInstance | None:
        customer, product, person = customers.get(name), products.get(code), _person(advisor)
        if customer is None or product is None or person is None:
            return None
        data = {"customer": customer.id_number, "product": product.code, "amount": amount,
                "purpose": extra.pop("purpose", "general"),
                "horizon_months": str(extra.pop("horizon", product.term_months)),
                "customer_insists": "true" if extra.pop("insists", False) else "false",
                "guardian_present": "true" if extra.pop("guardian", False) else "false"}
        return commands.start_case(SALE_PROCESS, person, data, via="seed")

    normal = sale("advisor1", "刘洋", "WM-R2-06", "80000", horizon=3)
    if normal is not None:
        _step(normal, "Task_TermWarning", "advisor1", {
            "term_warning": "资金3个月后需用，产品期限6个月，提前赎回受限。 "
                            "The money is needed in 3 months; the term is 6.",
            "term_acknowledged": "acknowledged"})
        _disclose(normal, "advisor1")
    witnessed = sale("advisor1", "王秀英", "WM-R3-12", "200000")
    if witnessed is not None:
        _disclose(witnessed, "advisor1")
        _witness(witnessed, "retail")
        _recording(witnessed, "advisor1", 1)
    waiting = sale("advisor2", "王秀英", "WM-R3-12", "50000")
    if waiting is not None:
        _disclose(waiting, "advisor2")
    declared = sale("advisor2", "陈志强", "WM-R5-36", "300000", insists=True)
    if declared is not None:
        _step(declared, "Task_Declaration", "advisor2", {
            "disclosure": "产品R5高于客户C4评估，已建议R4及以下产品。 R5 is above C4; R4 and below were proposed.",
            "declaration_text": "本人已知悉该产品风险等级高于本人风险承受能力评估结果，坚持购买，风险自担。"},
            uploads={"declaration_scan": Upload("特别声明.pdf", "application/pdf", PDF)})
        _witness(declared, "gm")
        _recording(declared, "advisor2", 2)
    refused = sale("advisor1", "王秀英", "WM-R4-24", "100000")  # refused: 65 and over into R4
    minor = sale("advisor1", "周子涵", "WM-R1-03", "5000", purpose="education", guardian=True)
    if minor is not None:
        _disclose(minor, "advisor1")
    return {"normal": normal, "witnessed": witnessed, "waiting": waiting, "declared": declared, "refused": refused,
            "minor": minor}
