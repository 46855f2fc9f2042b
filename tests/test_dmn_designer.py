"""The designer's DMN pages and /api/v1/decision-tables: list, XML, validate with the replay,
deploy, and the refusals (other roles 403 and logged; hostile tables 422 and logged)."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.api.client import token
from tests.conftest import Browserless, user
from tests.dmn_helpers import Variant, lower_age_limit
from workflows.cases import commands as cases
from workflows.cases.models import SecurityEvent
from workflows.db import db


def _json(web: Browserless, path: str, body: object):
    return web.client.post(path, data=json.dumps(body), headers={
        "X-CSRFToken": web.csrf("/"), "Content-Type": "application/json", "Accept": "application/json"})


def _api(web: Browserless, method: str, path: str, username: str, body: object = None, lang: str = "en"):
    db.session.commit()
    headers = {"Authorization": f"Bearer {token(username)}", "Accept-Language": lang}
    call = web.client.get if method == "get" else web.client.post
    return call(f"/api/v1{path}", headers=headers, **({"json": body} if body is not None else {}))


def _security(kind: str, username: str) -> list[SecurityEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind,
                                                               SecurityEvent.username == username)))


def _past(v: Variant) -> None:
    for age, risk in [(70, 5), (62, 5), (61, 3), (30, 1)]:
        cases.start_case(v.process, user("advisor1"), {"age": str(age), "risk": str(risk)})


def test_the_pages_list_open_validate_with_replay_and_deploy(web: Browserless) -> None:
    v = Variant("pages")
    v.deploy()
    _past(v)
    web.login("designer")
    index = web.client.get("/designer/dmn/").get_data(as_text=True)
    assert v.key in index and f"/designer/dmn/{v.key}/edit" in index and "DMN routing v1" in index
    assert "/designer/dmn/" in web.client.get("/designer/").get_data(as_text=True)
    edit = web.client.get(f"/designer/dmn/{v.key}/edit", headers={"Accept-Language": "en"})
    assert edit.status_code == 200 and "build/dmn.js" in edit.get_data(as_text=True)
    assert "running cases keep the version they started with" in edit.get_data(as_text=True)
    assert "进行中的案件保留其发起时的版本" in web.client.get(f"/designer/dmn/{v.key}/edit").get_data(as_text=True)
    xml = web.client.get(f"/designer/dmn/{v.key}/v1.dmn")
    assert xml.mimetype == "text/plain" and xml.get_data(as_text=True) == v.table()

    changed = v.table(lower_age_limit())
    answer = _json(web, f"/designer/dmn/{v.key}/validate", {"xml": changed})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["ok"] and body["problems"] == []
    r = body["replay"]
    assert (r["total"], r["unchanged"], r["changed"], r["not_replayable"]) == (4, 2, 2, 0)
    assert r["changes"] == [{"output": "outcome", "old": "normal", "new": "refused", "count": 1},
                            {"output": "outcome", "old": "normal", "new": "witness", "count": 1}]
    assert {a["url"] for a in r["affected"]} == {f"/cases/{a['instance_id']}" for a in r["affected"]}

    bad = changed.replace("&gt;= 4</text>", "&gt;&gt; 4</text>")
    answer = _json(web, f"/designer/dmn/{v.key}/validate", {"xml": bad})
    assert answer.status_code == 422 and "replay" not in answer.get_json()
    [problem] = answer.get_json()["problems"]
    assert (problem["row"], problem["rule_id"], problem["column"], problem["element_id"]) == (1, "Rule_old_high",
                                                                                              "Risk", "E2")
    deployed = _json(web, f"/designer/dmn/{v.key}/deploy", {"xml": changed})
    assert deployed.status_code == 200, deployed.get_json()
    assert deployed.get_json()["version"] == 2 and deployed.get_json()["processes"] == [
        {"key": v.process, "version": 2}]
    assert "v2" in web.client.get("/designer/dmn/").get_data(as_text=True)


def test_the_pages_answer_in_chinese(web: Browserless) -> None:
    v = Variant("pageszh")
    v.deploy()
    web.login("designer")
    bad = v.table().replace('typeRef="integer"><text>age', "><text>age")
    answer = web.client.post(f"/designer/dmn/{v.key}/validate", data=json.dumps({"xml": bad}), headers={
        "X-CSRFToken": web.csrf("/"), "Content-Type": "application/json", "Accept-Language": "zh-CN"})
    [problem] = answer.get_json()["problems"]
    assert problem["code"] == "type_missing" and "Age" in problem["message"] and "typeRef" in problem["message"]
    assert "the input" not in problem["message"]  # translated


def test_deploy_and_hostile_tables_are_refused_and_logged(web: Browserless) -> None:
    v = Variant("pagesrefuse")
    v.deploy()
    web.login("admin")  # administrators may look, not deploy
    assert web.client.get(f"/designer/dmn/{v.key}/edit").status_code == 200
    before = len(_security("refused", "admin"))
    refused = _json(web, f"/designer/dmn/{v.key}/deploy", {"xml": v.table(lower_age_limit())})
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    assert len(_security("refused", "admin")) == before + 1
    web.logout()
    web.login("staff04")
    assert web.client.get("/designer/dmn/").status_code == 403
    web.logout()
    web.login("designer")
    hostile = v.table().replace("'refused'", "__import__('os').system('id')")
    before = len(_security("deploy_refused", "designer"))
    answer = _json(web, f"/designer/dmn/{v.key}/validate", {"xml": hostile})
    assert answer.status_code == 422 and answer.get_json()["problems"][0]["code"] == "unsafe"
    answer = _json(web, f"/designer/dmn/{v.key}/deploy", {"xml": hostile})
    assert answer.status_code == 422 and answer.get_json()["error"] == "invalid_table"
    entity = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><definitions>&e;</definitions>'
    answer = _json(web, f"/designer/dmn/{v.key}/validate", {"xml": entity})
    assert answer.status_code == 422 and answer.get_json()["problems"][0]["code"] == "xml"
    assert len(_security("deploy_refused", "designer")) == before + 3
    assert _json(web, "/designer/dmn/nothing.dmn/validate", {"xml": v.table()}).status_code == 404
    assert web.client.get("/designer/dmn/nothing.dmn/edit").status_code == 404
    assert _json(web, f"/designer/dmn/{v.key}/validate", {"nope": 1}).status_code == 422


def test_the_api_does_what_the_pages_do(web: Browserless) -> None:
    v = Variant("apidmn")
    v.deploy()
    _past(v)
    listed = _api(web, "get", "/decision-tables", "designer")
    assert listed.status_code == 200
    [mine] = [d for d in listed.get_json()["items"] if d["key"] == v.key]
    assert mine["latest_version"] == 1 and mine["processes"] == [{"key": v.process, "version": 1}]
    one = _api(web, "get", f"/decision-tables/{v.key}/versions/1", "designer").get_json()
    assert one["xml"] == v.table() and one["decision_ids"] == [v.decision]
    assert _api(web, "get", f"/decision-tables/{v.key}", "admin").status_code == 200
    changed = v.table(lower_age_limit())
    check = _api(web, "post", f"/decision-tables/{v.key}/validate", "designer", {"xml": changed})
    assert check.status_code == 200 and check.get_json()["replay"]["changed"] == 2
    replayed = _api(web, "post", f"/decision-tables/{v.key}/replay", "designer", {"xml": changed}).get_json()
    assert replayed["changes"][0] == {"output": "outcome", "old": "normal", "new": "refused", "count": 1}
    assert "url" not in replayed["affected"][0]
    bad = _api(web, "post", f"/decision-tables/{v.key}/validate", "designer",
               {"xml": changed.replace("<text>'witness'</text>", "<text>'witness</text>")})
    assert bad.status_code == 422 and bad.get_json()["error"] == "invalid_table"
    assert bad.get_json()["problems"][0]["column"] == "outcome" and bad.get_json()["problems"][0]["row"] == 2
    missing = _api(web, "post", f"/decision-tables/{v.key}/deploy", "designer", {})
    assert missing.status_code == 422 and missing.get_json()["field_codes"] == {"xml": "required"}

    before = len(_security("refused", "admin"))
    refused = _api(web, "post", f"/decision-tables/{v.key}/deploy", "admin", {"xml": changed})
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    assert len(_security("refused", "admin")) == before + 1
    assert _api(web, "get", "/decision-tables", "staff04").status_code == 403
    deployed = _api(web, "post", f"/decision-tables/{v.key}/deploy", "designer", {"xml": changed})
    assert deployed.status_code == 201 and deployed.get_json()["version"] == 2
    again = _api(web, "post", f"/decision-tables/{v.key}/deploy", "designer", {"xml": changed})
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert _api(web, "get", "/decision-tables/none.dmn/versions/1", "designer").get_json()["error"] == "not_found"
    spec = web.client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/decision-tables/{key}/replay" in spec["paths"] and "Replay" in spec["components"]["schemas"]
