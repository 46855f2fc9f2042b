"""What the designer's DMN pages and the API answer alike: a table's problems, the what-if
replay, and deploying, each refusal of hostile input written to the security log."""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from workflows.cases import compare as designs
from workflows.cases import dmn_tables, replay
from workflows.cases.dmn_tables import TableRefused
from workflows.engine.dmn_check import Problem, errors
from workflows.engine.xml import DefinitionError
from workflows.errors import Conflict

from .i18n import tr
from .security import acting_user
from .template_helpers import when

ATTACKS = ("xml", "unsafe")  # problems written to the security log: hostile XML, refused expressions


def problem_json(p: Problem) -> dict[str, Any]:
    return {**p.as_dict(), "message": tr(p.message)}


def replay_json(report: replay.Replay, *, pages: bool = True) -> dict[str, Any]:
    """The replay as the page and the API give it (case links only on the pages)."""
    return {
        "decision_id": report.decision_id, "total": report.total, "unchanged": report.unchanged,
        "changed": report.changed, "not_replayable": report.not_replayable,
        "failures": [{"reason": tr(why) if why == replay.NOT_RECORDED else why, "count": n}
                     for why, n in report.failures.most_common()],
        "changes": [{"output": o, "old": a, "new": b, "count": n} for o, a, b, n in report.change_rows()],
        "affected": [{"instance_id": a.instance_id, "title": a.title, "at": a.at.isoformat(),
                      "old": {k: replay.shown(v) for k, v in a.old.items()},
                      "new": {k: replay.shown(v) for k, v in a.new.items()},
                      "old_rules": a.old_rules, "new_rules": a.new_rules,
                      **({"url": url_for("cases.case_page", instance_id=a.instance_id), "at_shown": when(a.at)}
                         if pages else {})}
                     for a in report.affected],
        "truncated": report.truncated,
    }


def check_and_replay(key: str, xml: str, *, pages: bool = True) -> tuple[int, dict[str, Any]]:
    """(status, body) of validating a changed table: its problems, and when it has no error the
    replay of past decisions under it. A hostile document goes to the security log."""
    dmn_tables.document(key)  # NotFound first
    problems = dmn_tables.check(key, xml)
    body: dict[str, Any] = {"ok": not errors(problems), "problems": [problem_json(p) for p in problems]}
    if any(p.code in ATTACKS for p in problems):
        designs.note_refusal(acting_user(), f"validate {key}", len(xml),
                             "; ".join(str(p.message) for p in problems if p.code in ATTACKS), request.remote_addr)
    if body["ok"]:
        body["replay"] = replay_json(replay.replay(key, xml), pages=pages)
    return (200 if body["ok"] else 422), body


def deploy_table(key: str, xml: str) -> tuple[int, dict[str, Any]]:
    """(status, body) of deploying: the new version and the process versions pinned to it, or the
    problems (422, in the security log) or a conflict (409)."""
    try:
        result = dmn_tables.deploy(key, xml, acting_user())
    except TableRefused as exc:
        designs.note_refusal(acting_user(), f"deploy {key}", len(xml),
                             "; ".join(str(p.message) for p in errors(exc.problems)), request.remote_addr)
        return 422, {"error": exc.code, "message": tr(exc.message),
                     "problems": [problem_json(p) for p in exc.problems]}
    except Conflict as exc:
        return exc.status, {"error": exc.code, "message": tr(exc.message)}
    except DefinitionError as exc:
        designs.note_refusal(acting_user(), f"deploy {key}", len(xml), str(exc), request.remote_addr)
        return 422, {"error": "invalid_table", "message": str(exc), "problems": []}
    return 200, {"ok": True, "key": key, "version": result.decision.version, "created": result.created,
                 "processes": [{"key": p.key, "version": p.version} for p in result.processes]}
