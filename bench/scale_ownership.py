"""Client ownership (Process A) cases for bench/scale_data.py: the shapes a busy branch's
registrations take, each driven once through the real engine, and new clients for clones."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from bench.scale_data import FamilyBuilder, Recorder, Shape, Slot, person_name, register_builder

PROCESS = "client_ownership"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
OUTLETS = ["工商银行一11网点", "建设银行一12网点", "农业银行二21网点", "招商银行三11网点", "工商银行三21网点"]
LONG_ROUNDS = 99  # trading-manager send-back rounds of the long history: ~900 events
MEDIUM_ROUNDS = 10

Users = dict[str, Any]


def _start(rec: Recorder, u: Users, m: dict[str, str]) -> None:
    rec.start(PROCESS, u["initiator"], _registration(m))


def _registration(m: dict[str, str]) -> dict[str, Any]:
    return {"client_name": m["client_name"], "client_id_number": m["client_id_number"],
            "client_phone": m["client_phone"], "estimated_assets": "300000", "planned_open_date": m["planned"],
            "outlet": OUTLETS[0], "accompany": "true", "institutional": "false"}


def _confirm(rec: Recorder, u: Users, decision: str = "approve") -> None:
    comment = {"approve": "", "send_back": "请补充联系方式", "reject": "客户已在他处开户"}[decision]
    rec.complete("Task_ConfirmReservation", u["support"], {"decision": decision, "comment": comment})


def _counter(rec: Recorder, u: Users, m: dict[str, str], signed: bool = True, decision: str = "approve") -> None:
    from workflows.cases.forms import Upload

    data = {"account_no": m["account_no"], "signed_by_client": "true" if signed else "false",
            "staff_present": "true", "decision": decision,
            "comment": "" if signed and decision == "approve" else "非本人签字" if not signed else "资料不全"}
    uploads = {"scanned_form": Upload("form.pdf", "application/pdf", PDF)} if decision == "approve" else None
    rec.complete("Task_CounterOpening", u["counter"], data, uploads)


def _aggregate(rec: Recorder, u: Users) -> None:
    rec.complete("Task_Aggregate", u["support"], {})


def _review(rec: Recorder, u: Users, spec: str, slot: str, decision: str = "approve") -> None:
    comment = {"approve": "", "send_back": "扫描件不清晰,请重新上传", "not_counted": "虚假开户"}[decision]
    rec.complete(spec, u[slot], {"decision": decision, "comment": comment})


def _register(rec: Recorder, u: Users, m: dict[str, str]) -> None:
    rec.complete("Task_Register", u["trading"], {"effective_date": m["effective"], "archive_ref": m["archive"]})


def _to_trading(rec: Recorder, u: Users, m: dict[str, str], rounds: int = 0) -> None:
    _start(rec, u, m)
    _confirm(rec, u)
    _counter(rec, u, m)
    _aggregate(rec, u)
    for _ in range(rounds):
        _review(rec, u, "Task_TradingReview", "trading", "send_back")
        _counter(rec, u, m)
        _aggregate(rec, u)


def _registered(rounds: int = 0, finance_back: bool = False, gm_back: bool = False):
    def run(rec: Recorder, u: Users, m: dict[str, str]) -> None:
        _to_trading(rec, u, m, rounds)
        _review(rec, u, "Task_TradingReview", "trading")
        if finance_back:
            _review(rec, u, "Task_FinanceReview", "finance", "send_back")
            _review(rec, u, "Task_TradingReview", "trading")
        _review(rec, u, "Task_FinanceReview", "finance")
        if gm_back:
            _review(rec, u, "Task_GMReview", "gm", "send_back")
            _review(rec, u, "Task_TradingReview", "trading")
            _review(rec, u, "Task_FinanceReview", "finance")
        _review(rec, u, "Task_GMReview", "gm")
        _register(rec, u, m)
    return run


def _revised(rec: Recorder, u: Users, m: dict[str, str]) -> None:
    _start(rec, u, m)
    _confirm(rec, u, "send_back")
    rec.complete("Task_Revise", u["initiator"], _registration(m))
    _confirm(rec, u)
    _counter(rec, u, m)
    _aggregate(rec, u)
    for spec, slot in (("Task_TradingReview", "trading"), ("Task_FinanceReview", "finance"),
                       ("Task_GMReview", "gm")):
        _review(rec, u, spec, slot)
    _register(rec, u, m)


def _stop_at(spec: str, claimed: bool = False):
    """An open case waiting at ``spec`` (the steps before it done)."""
    order = ["Task_ConfirmReservation", "Task_CounterOpening", "Task_Aggregate", "Task_TradingReview",
             "Task_FinanceReview", "Task_GMReview", "Task_Register"]

    def run(rec: Recorder, u: Users, m: dict[str, str]) -> None:
        _start(rec, u, m)
        if spec == "Task_Revise":
            _confirm(rec, u, "send_back")
            return
        steps = {
            "Task_ConfirmReservation": lambda: _confirm(rec, u),
            "Task_CounterOpening": lambda: _counter(rec, u, m),
            "Task_Aggregate": lambda: _aggregate(rec, u),
            "Task_TradingReview": lambda: _review(rec, u, "Task_TradingReview", "trading"),
            "Task_FinanceReview": lambda: _review(rec, u, "Task_FinanceReview", "finance"),
            "Task_GMReview": lambda: _review(rec, u, "Task_GMReview", "gm"),
        }
        for step in order[: order.index(spec)]:
            steps[step]()
        if claimed:
            holder = {"Task_TradingReview": "trading", "Task_CounterOpening": "counter"}[spec]
            rec.claim(spec, u[holder])
    return run


def _simple(*steps: str):
    def run(rec: Recorder, u: Users, m: dict[str, str]) -> None:
        _start(rec, u, m)
        for step in steps:
            if step == "reject_reservation":
                _confirm(rec, u, "reject")
            elif step == "confirm":
                _confirm(rec, u)
            elif step == "counter_reject":
                _counter(rec, u, m, decision="reject")
            elif step == "not_signed":
                _counter(rec, u, m, signed=False)
            elif step == "counter":
                _counter(rec, u, m)
            elif step == "aggregate":
                _aggregate(rec, u)
            elif step == "fake":
                _review(rec, u, "Task_TradingReview", "trading", "not_counted")
    return run


SHAPES = [
    # finished cases, by share
    Shape("registered", _registered(), weight=0.44),
    Shape("registered after a trading send-back", _registered(rounds=1), weight=0.10),
    Shape("registered after a finance send-back", _registered(finance_back=True), weight=0.04),
    Shape("registered after a GM send-back", _registered(gm_back=True), weight=0.03),
    Shape(f"registered after {MEDIUM_ROUNDS} send-backs", _registered(rounds=MEDIUM_ROUNDS), weight=0.01),
    Shape("revised, then registered", _revised, weight=0.05),
    Shape("reservation refused", _simple("reject_reservation"), weight=0.18),
    Shape("rejected at the counter", _simple("confirm", "counter_reject"), weight=0.07),
    Shape("not signed by the client", _simple("confirm", "not_signed"), weight=0.03),
    Shape("fake opening, not counted", _simple("confirm", "counter", "aggregate", "fake"), weight=0.05),
    # the long histories: ~900 events (99 send-back rounds), eight per million task rows
    Shape(f"registered after {LONG_ROUNDS} send-backs (long history)", _registered(rounds=LONG_ROUNDS),
          fixed_per_million=8),
    # open work, by share of the open cases
    Shape("open: confirm reservation", _stop_at("Task_ConfirmReservation"), open=True, weight=0.18),
    Shape("open: revise", _stop_at("Task_Revise"), open=True, weight=0.04),
    Shape("open: counter", _stop_at("Task_CounterOpening"), open=True, weight=0.16),
    Shape("open: counter, claimed", _stop_at("Task_CounterOpening", claimed=True), open=True, weight=0.03),
    Shape("open: aggregate", _stop_at("Task_Aggregate"), open=True, weight=0.12),
    Shape("open: trading review", _stop_at("Task_TradingReview"), open=True, weight=0.13),
    Shape("open: trading review, claimed", _stop_at("Task_TradingReview", claimed=True), open=True, weight=0.03),
    Shape("open: finance review", _stop_at("Task_FinanceReview"), open=True, weight=0.10),
    Shape("open: GM review", _stop_at("Task_GMReview"), open=True, weight=0.12),
    Shape("open: register", _stop_at("Task_Register"), open=True, weight=0.09),
]

TEMPLATE_TAGS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"


def markers(k: int) -> dict[str, str]:
    """Template ``k``'s client: strings found nowhere else, replaced in every clone."""
    return {"client_name": f"模板客户{TEMPLATE_TAGS[k]}{TEMPLATE_TAGS[-1 - k]}",
            "client_id_number": f"TPLQ{k:06d}Z", "client_phone": f"19900{k:06d}",
            "account_no": f"77{k:010d}", "archive": f"ARCHTPL{k:04d}",
            "planned": f"1901-01-{k + 1:02d}", "effective": f"1902-02-{k + 1:02d}"}


def id_number(i: int) -> str:
    """A unique, well-formed 18-character resident ID number (GB 11643 check character)."""
    area = 440300 + i % 100
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=(i // 100) % 20000)
    body = f"{area}{birth:%Y%m%d}{(i // 2_000_000) % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def values(i: int, rng: random.Random, m: dict[str, str], started: dt.datetime) -> dict[str, str]:
    """Clone ``i``'s client and dates."""
    planned = started.date() + dt.timedelta(days=rng.randint(1, 10))
    return {"client_name": person_name(i * 31 + 7), "client_id_number": id_number(i),
            "client_phone": f"13{(i * 7919) % 10**9:09d}", "account_no": f"88{i:010d}",
            "archive": f"GD{started:%Y}-{i:06d}", "planned": planned.isoformat(),
            "effective": (planned + dt.timedelta(days=rng.randint(3, 20))).isoformat()}


BUILDER = register_builder(FamilyBuilder(
    family_key="ownership",
    process_keys=frozenset({PROCESS}),
    slots={"initiator": Slot("staff"), "support": Slot("support", same_department_as="initiator"),
           "counter": Slot("counter"), "trading": Slot("trading_manager"), "finance": Slot("finance_manager"),
           "gm": Slot("gm")},
    shapes=SHAPES,
    markers=markers,
    values=values,
    id_keys={"registry_entry": "client_ownership", "_owner_id": "user", "to_user_id": "user"},
))
