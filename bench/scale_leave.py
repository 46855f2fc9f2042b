"""Leave family cases for bench/scale_data.py: leave requests of every kind and outcome (approved
with their attendance-ledger entry, rejected, withdrawn, corrected, pending at each step) and a
few separation reviews, each driven once through the real engine.

A leave clone keeps its template's working days: its dates are as many working days long as the
template's (so the days, the pay deduction and the score its history and ledger row state stay
true, on the branch calendar), starting shortly after its own filing day, or shortly before when
the template was filed late. Its ledger entry
is cloned with it (a new id, the clone's person, approver and dates); the history's
``ledger_entry`` and ``_user_id`` facts are remapped, so ``flask audit verify``'s ledger check
holds. Separation reviews start from recorded absences, which belong to no case, so they are not
cloned: the few templates stay as the engine wrote them.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from bench.scale_data import FamilyBuilder, People, Recorder, Shape, Slot, register_builder

LEAVE = "leave_request"
SEPARATION = "separation_review"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
SHARE = 0.3  # against client ownership's 1.0: about 23% of the finished cases' task rows, and of the open cases
TAGS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"
REASONS = {
    "personal": ["家中有事", "办理证件", "子女入学", "搬家", "陪同家人就医", "参加婚礼", "处理房产手续"],
    "sick": ["发烧就医", "急性肠胃炎", "腰椎间盘突出复查", "流感", "术后复查"],
    "work_injury": ["外出拜访客户途中扭伤", "网点搬运资料时受伤"],
}
HOSPITALS = ["福田区人民医院", "南山区人民医院", "深圳市人民医院", "北京大学深圳医院", "广东省人民医院",
             "罗湖区人民医院", "深圳市第二人民医院"]

AHEAD = [0] * 4 + [1] * 4 + [2] * 3 + [3, 4, 5, 7, 10, 15]  # working days between filing and the leave
LATE_BY = [0, 0, 0, 1, 1, 2]  # filed late: working days since its first day

Users = dict[str, Any]

# Filled by prepare() in the app (the cloning workers inherit them): the branch's working days over
# the years cloned, and each template's request by its first day: (working days from its filing day to its
# first day, days, kind).
_CAL: list[dt.date] = []
_OFFSETS: dict[str, tuple[int, int, str]] = {}


@dataclass(frozen=True)
class Leave:
    """One shape of leave request: kind, working days, half day, filed late, and what happens."""

    kind: str
    days: int
    path: str  # see _PATHS
    half: str = "none"
    late: bool = False


def _decide(rec: Recorder, u: Users, step: str, decision: str) -> None:
    spec, slot = {"first": ("Task_FirstApproval", "first"), "branch": ("Task_BranchApproval", "branch")}[step]
    comment = {"approve": "", "send_back": "日期与排班冲突,请调整说明", "reject": "月底业绩冲刺期间,不批准"}[decision]
    rec.complete(spec, u[slot], {"decision": decision, "comment": comment})


def _withdraw(rec: Recorder, u: Users) -> None:
    rec.complete("Task_Withdraw", u["requester"], {"decision": "withdraw", "comment": "已改期"})


_PATHS: dict[str, list[tuple[str, str]]] = {
    "approved": [("first", "approve"), ("branch", "approve")],
    "rejected by the first approver": [("first", "reject")],
    "rejected by the branch": [("first", "approve"), ("branch", "reject")],
    "withdrawn at the first approval": [("withdraw", "")],
    "withdrawn at the branch approval": [("first", "approve"), ("withdraw", "")],
    "corrected, then approved": [("first", "send_back"), ("revise", ""), ("first", "approve"), ("branch", "approve")],
    "sent back by the branch, then approved": [("first", "approve"), ("branch", "send_back"), ("revise", ""),
                                               ("first", "approve"), ("branch", "approve")],
    "open: first approval": [],
    "open: branch approval": [("first", "approve")],
    "open: correction": [("first", "send_back")],
    "open: first approval after a correction": [("first", "send_back"), ("revise", "")],
}


def _request(spec: Leave, m: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    data: dict[str, Any] = {"leave_type": spec.kind, "start_date": m["start"], "end_date": m["end"],
                            "half_day": spec.half, "reason": m["reason"]}
    if spec.kind == "personal":
        return data, None
    from workflows.cases.forms import Upload

    data.update(hospital_name=m["hospital"], hospital_level="city")
    return data, {"certificate": Upload("诊断证明.pdf", "application/pdf", PDF)}


def _leave(spec: Leave):
    def run(rec: Recorder, u: Users, m: dict[str, str]) -> None:
        data, uploads = _request(spec, m)
        rec.start(LEAVE, u["requester"], data, uploads)
        for step, decision in _PATHS[spec.path]:
            if step == "withdraw":
                _withdraw(rec, u)
            elif step == "revise":
                rec.complete("Task_Revise", u["requester"], {**data, "reason": m["reason"] + "(已补充说明)"})
            else:
                _decide(rec, u, step, decision)
    return run


# (name, spec, open, weight): finished ones by share of the finished leave requests, open ones of the open
SPECS: list[tuple[str, Leave, bool, float]] = [
    ("personal, 1 day", Leave("personal", 1, "approved"), False, 0.26),
    ("personal, 3 days", Leave("personal", 3, "approved"), False, 0.08),
    ("personal, a morning", Leave("personal", 1, "approved", half="am"), False, 0.07),
    ("sick, 2 days", Leave("sick", 2, "approved"), False, 0.10),
    ("sick, filed late", Leave("sick", 1, "approved", late=True), False, 0.05),
    ("sick, 5 days (pay deducted)", Leave("sick", 5, "approved"), False, 0.03),
    ("work injury, 3 days", Leave("work_injury", 3, "approved"), False, 0.02),
    ("personal, corrected, then approved", Leave("personal", 1, "corrected, then approved"), False, 0.05),
    ("sick, sent back by the branch, then approved",
     Leave("sick", 1, "sent back by the branch, then approved", late=True), False, 0.02),
    ("personal, rejected by the first approver", Leave("personal", 2, "rejected by the first approver"), False, 0.09),
    ("personal, rejected by the branch", Leave("personal", 1, "rejected by the branch"), False, 0.04),
    ("personal, withdrawn at the first approval", Leave("personal", 1, "withdrawn at the first approval"),
     False, 0.13),
    ("personal, withdrawn at the branch approval", Leave("personal", 1, "withdrawn at the branch approval"),
     False, 0.06),
    ("open: personal, first approval", Leave("personal", 1, "open: first approval"), True, 0.35),
    ("open: sick, first approval", Leave("sick", 2, "open: first approval"), True, 0.10),
    ("open: personal, branch approval", Leave("personal", 1, "open: branch approval"), True, 0.30),
    ("open: personal afternoon, correction", Leave("personal", 1, "open: correction", half="pm"), True, 0.10),
    ("open: personal, first approval after a correction",
     Leave("personal", 1, "open: first approval after a correction"), True, 0.15),
]
SHAPES = [Shape(f"leave: {name}", _leave(spec), open=open_, weight=weight) for name, spec, open_, weight in SPECS]


# --- people and the calendar --------------------------------------------------------------


def prepare(people: People) -> None:
    """The branch's working days over the cloned years, and who may request leave in clones: staff
    whose request goes to a first approver and then to the branch (the templates' route), each
    with their own approvers (``first`` and ``branch`` follow the requester)."""
    from sqlalchemy import select

    from workflows.branch import calendar
    from workflows.branch.models import User
    from workflows.db import db
    from workflows.engine import clock
    from workflows.processes.leave.approvers import route

    today = clock.today()
    first, last = today - dt.timedelta(days=366 * 6), today + dt.timedelta(days=500)
    known = calendar.exceptions(first, last)
    _CAL[:] = [d for d in (first + dt.timedelta(n) for n in range((last - first).days + 1))
               if known.get(d, d.weekday() < 5)]
    firsts, branches, pool = {}, {}, []
    staff = people.by_role.get("staff", [])
    for user in db.session.scalars(select(User).where(User.id.in_(staff)).order_by(User.id)):
        found = route(user)
        if found.first is not None and found.branch is not None:
            firsts[user.id], branches[user.id] = found.first.id, found.branch.id
            pool.append(user.id)
    people.by_role["leave_requester"] = pool
    people.extra["leave_first"], people.extra["leave_branch"] = firsts, branches


def _working_index(day: dt.date) -> int:
    """How many working days there are up to ``day`` (its own included) since the calendar's start."""
    return bisect.bisect_right(_CAL, day)


def markers(k: int) -> dict[str, str]:
    """Template ``k``'s request: dates of its own (a request of no other template overlaps it, so
    one person may file several), a reason and a hospital found nowhere else."""
    from workflows.engine import clock

    name, spec, _open, _w = SPECS[k]
    filed = _working_index(clock.today())
    if spec.late:  # its first day is a working day on or before the filing day
        late_before = sum(1 for _n, s, _o, _w in SPECS[:k] if s.late)
        start = filed - 1 - 3 * late_before
    else:  # at least four working days ahead
        start = filed + 4 + 6 * k
    s, e = _CAL[start], _CAL[start + spec.days - 1]
    _OFFSETS[s.isoformat()] = (start - filed, spec.days, spec.kind)
    tag = TAGS[k % len(TAGS)] + TAGS[-1 - k // len(TAGS)]
    return {"start": s.isoformat(), "end": e.isoformat(), "reason": f"模板事由{tag}", "hospital": f"模板医院{tag}"}


def values(i: int, rng: random.Random, m: dict[str, str], started: dt.datetime) -> dict[str, str]:
    """Clone ``i``'s request: as many working days as the template's, starting a few working days
    after the clone's filing day (or, filed late as the template was, a few before it)."""
    from workflows.engine import clock

    offset, days, kind = _OFFSETS[m["start"]]
    filed = _working_index(clock.local(started).date())  # _CAL[filed]: the first working day after it
    first = filed - 1 - rng.choice(LATE_BY) if offset < 0 else filed + rng.choice(AHEAD)
    return {"start": _CAL[first].isoformat(), "end": _CAL[first + days - 1].isoformat(),
            "reason": rng.choice(REASONS[kind]), "hospital": rng.choice(HOSPITALS)}


BUILDER = register_builder(FamilyBuilder(
    family_key="leave",
    process_keys=frozenset({LEAVE}),
    slots={"requester": Slot("leave_requester"),
           "first": Slot("regional_manager", derive=lambda p, cast: p.extra["leave_first"][cast["requester"]]),
           "branch": Slot("gm", derive=lambda p, cast: p.extra["leave_branch"][cast["requester"]])},
    shapes=SHAPES,
    markers=markers,
    values=values,
    id_keys={"ledger_entry": "attendance_entry", "_user_id": "user"},
    share=SHARE,
    prepare=prepare,
    usernames=True,  # the approvers' usernames are in the case's data (the steps' assignees)
))


# --- separation reviews: a few, as the engine wrote them ------------------------------------------


def _prepare_reviews(people: People) -> None:
    """Staff whose absences their regional manager records and whose project director reviews them."""
    from sqlalchemy import select

    from workflows.branch.models import User
    from workflows.branch.org import gm, relation
    from workflows.db import db
    from workflows.processes.leave.approvers import first_approver

    boss = gm()
    chosen: list[tuple[int, int, int]] = []
    staff = people.by_role.get("staff", [])
    for user in db.session.scalars(select(User).where(User.id.in_(staff)).order_by(User.id.desc())):
        recorder, director = first_approver(user), relation(user, "project_director")
        if recorder is not None and director is not None and director.id != recorder.id and boss is not None:
            chosen.append((user.id, recorder.id, director.id))
    people.extra["absentees"] = chosen
    people.extra["gm"] = boss.id if boss is not None else None
    people.extra["next_absentee"] = 0


def _absentee(p: People, cast: dict[str, int]) -> int:
    """Another person for each review (their absences are in different months as well)."""
    k = p.extra["next_absentee"]
    p.extra["next_absentee"] = k + 1
    return p.extra["absentees"][k % len(p.extra["absentees"])][0]


def _review(months_ago: int, director: str | None, final: str | None):
    def run(rec: Recorder, u: Users, m: dict[str, str]) -> None:
        from workflows.branch import calendar
        from workflows.engine import clock
        from workflows.processes.leave import absences

        first = clock.today().replace(day=1)
        for _ in range(months_ago):
            first = (first - dt.timedelta(days=1)).replace(day=1)
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        run_ = calendar.working_days(first, last)[5:8]
        recorded = absences.record_absence(u["recorder"], {
            "user": u["absentee"].username, "start_date": run_[0].isoformat(), "end_date": run_[-1].isoformat(),
            "note": "连续三天未到岗,电话未接"}, via="seed")
        if not recorded.reviews:
            raise RuntimeError("the absences started no separation review")
        rec.adopt(recorded.reviews[0].id)
        if director is not None:
            rec.complete("Task_DirectorReview", u["director"],
                         {"director_decision": director, "director_comment": "已与本人及其主管核实"})
        if final is not None:
            rec.complete("Task_GMReview", u["gm"], {"gm_decision": final, "gm_comment": "经营业部经理会讨论决定"})
    return run


REVIEW_BUILDER = register_builder(FamilyBuilder(
    family_key="leave:separation",
    process_keys=frozenset({SEPARATION}),
    slots={"absentee": Slot("staff", derive=_absentee),
           "recorder": Slot("regional_manager", derive=lambda p, cast: next(
               r for a, r, _d in p.extra["absentees"] if a == cast["absentee"])),
           "director": Slot("project_director", derive=lambda p, cast: next(
               d for a, _r, d in p.extra["absentees"] if a == cast["absentee"])),
           "gm": Slot("gm", derive=lambda p, cast: p.extra["gm"])},
    shapes=[  # never cloned (no weight): these cases alone
        Shape("separation: director review", _review(2, None, None), open=True),
        Shape("separation: GM review", _review(3, "retain", None), open=True),
        Shape("separation: retained", _review(4, "retain", "retain")),
        Shape("separation: treated as resignation", _review(5, "separate", "separate")),
    ],
    markers=lambda k: {},
    values=lambda i, rng, m, started: {},
    share=0.0,
    prepare=_prepare_reviews,
))
