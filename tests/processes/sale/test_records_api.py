"""The records through /api/v1, as the counter system or CRM uses them: round trips of customers,
products and qualifications under the pages' rules and codes, masking, the guardian's scan."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from tests.api.client import api  # noqa: F401 - the API fixture
from tests.processes.sale.records_helpers import TODAY, customer_data, events, history, on, person, prc_id, refusals
from workflows.processes.sale import demo_records


@pytest.fixture(autouse=True)
def _today() -> None:
    on(TODAY)


def send(client, method: str, path: str, body=None):
    return client.client._call(method, f"/api/v1{path}", json=body, headers=client.headers)  # PATCH too


def test_customers_round_trip(api) -> None:  # noqa: F811
    keeper = api("retail")
    data = customer_data(name="接口客户", birth=dt.date(2016, 2, 2), guardian_name="周建国",
                         guardian_id_number=prc_id(dt.date(1984, 4, 4)), guardian_relation="mother")
    created = send(keeper, "post", "/customers", data)
    body = created.get_json()
    assert created.status_code == 201, body
    assert body["id_number"] != data["id_number"] and body["id_number"].endswith(data["id_number"][-4:])
    assert (body["risk_level"], body["minor"], body["assessment_status"]) == ("C3", True, "valid")
    assert body["guardian"]["verified"] is False and body["history"][0]["action"] == "created"
    cid = body["id"]
    wrong = send(keeper, "patch", f"/customers/{cid}", {"assessment_expires_on": "2030-01-01", "nickname": "x"})
    assert wrong.status_code == 422 and wrong.get_json()["field_codes"] == {"nickname": "unknown_field"}
    wrong = send(keeper, "patch", f"/customers/{cid}", {"assessment_expires_on": "2030-01-01"})
    assert wrong.get_json()["field_codes"] == {"assessment_expires_on": "expiry_before_assessment"}
    changed = send(keeper, "patch", f"/customers/{cid}", {"risk_level": "C2", "phone": None})
    assert changed.status_code == 200 and changed.get_json()["risk_level"] == "C2"
    assert history("customer", cid)[-1].changes == {"risk_level": [3, 2], "phone": ["13800138000", None]}

    scan = {"file": {"filename": "g.png", "content_type": "image/png",
                     "content_base64": base64.b64encode(demo_records.scan_png()).decode()}}
    doc = send(keeper, "post", f"/customers/{cid}/guardian-document", scan)
    assert doc.status_code == 201 and doc.get_json()["size"] == len(demo_records.scan_png())
    bad = send(keeper, "post", f"/customers/{cid}/guardian-document",
               {"file": {"filename": "g.pdf", "content_base64": base64.b64encode(b"nope").decode()}})
    assert bad.get_json()["field_codes"] == {"file": "file_content_mismatch"}
    multipart = keeper.client.post(f"/api/v1/customers/{cid}/guardian-document", headers=keeper.headers,
                                   data={"file": (__import__("io").BytesIO(demo_records.scan_png()), "g2.png")},
                                   content_type="multipart/form-data")
    assert multipart.status_code == 201

    read = send(keeper, "get", f"/customers/{cid}").get_json()
    assert read["whole"] is False and read["guardian"]["verified"] is True and len(read["documents"]) == 2
    assert all(data["id_number"] not in str(h["changes"]) for h in read["history"])  # histories masked
    whole = send(keeper, "get", f"/customers/{cid}?whole=true").get_json()
    assert whole["id_number"] == data["id_number"] and events("record_viewed", "retail")[-1] == \
        f"customer {cid} viewed whole"
    file = send(keeper, "get", read["documents"][0]["link"].removeprefix("/api/v1"))
    assert file.status_code == 200 and file.data == demo_records.scan_png()

    listed = send(api("counter1"), "get", f"/customers?q={data['id_number']}").get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == cid
    assert data["id_number"] not in str(listed)
    before = len(refusals("counter1"))
    assert send(api("counter1"), "get", f"/customers/{cid}?whole=true").status_code == 403
    assert send(api("counter1"), "post", "/customers", customer_data()).status_code == 403
    assert send(api("counter1"), "get", read["documents"][0]["link"].removeprefix("/api/v1")).status_code == 403
    assert len(refusals("counter1")) - before == 3
    assert send(api("staff01"), "get", "/customers").status_code == 403


def test_products_round_trip(api) -> None:  # noqa: F811
    keeper = api("gm")
    code = f"API-{prc_id()[-6:]}"
    created = send(keeper, "post", "/products", {"code": code, "name": "接口产品", "risk_rating": "R4",
                                                 "term_months": 24})
    assert created.status_code == 201, created.get_json()
    pid = created.get_json()["id"]
    dup = send(keeper, "post", "/products", {"code": code.lower(), "name": "x", "risk_rating": 1, "term_months": 1})
    assert dup.status_code == 422 and dup.get_json()["field_codes"] == {"code": "taken"}
    patched = send(keeper, "patch", f"/products/{pid}", {"active": False}).get_json()
    assert patched["active"] is False and [h["action"] for h in patched["history"]] == ["updated", "created"]
    found = send(api("advisor1"), "get", f"/products?q={code}").get_json()
    assert found["total"] == 1 and found["items"][0]["risk_rating"] == "R4"
    assert send(api("advisor1"), "patch", f"/products/{pid}", {"active": True}).status_code == 403
    assert send(keeper, "get", "/products/999999999").status_code == 404


def test_qualifications_round_trip(api) -> None:  # noqa: F811
    keeper = api("retail")
    advisor = person()
    created = send(keeper, "post", "/qualifications", {"username": advisor.username, "certificate_no": "AQ-1",
                                                        "qualified_on": "2030-05-01", "expires_on": "2033-04-30"})
    assert created.status_code == 201 and created.get_json()["status"] == "valid"
    qid = created.get_json()["id"]
    mine = send(api(advisor.username), "get", "/qualifications").get_json()["items"]
    assert [(i["user"]["username"], i["status"], i["current"]) for i in mine] == [(advisor.username, "valid", qid)]
    assert send(api(advisor.username), "post", f"/qualifications/{qid}/revoke", {"reason": "x"}).status_code == 403
    revoked = send(keeper, "post", f"/qualifications/{qid}/revoke", {"reason": "证书注销"})
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    again = send(keeper, "post", f"/qualifications/{qid}/revoke", {"reason": "证书注销"})
    assert again.status_code == 409 and again.get_json()["error"] == "already_revoked"
    everyone = send(api("auditor"), "get", "/qualifications").get_json()["items"]
    assert any(i["user"]["username"] == advisor.username and i["status"] == "revoked" for i in everyone)
