"""The sale register's pages, CSV and API: who reads what, filters, paging, masking, and refusals logged."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from tests.api.client import Api
from tests.conftest import Browserless, user
from tests.processes.sale.sale_steps import (
    complete,
    disclose,
    make_customer,
    make_product,
    record_of,
    recording_ref,
    start_sale,
    witness,
)
from workflows.cases.models import SecurityEvent
from workflows.db import db
from workflows.engine import clock


def _three_sales() -> dict:
    """A normal sale and a witnessed one by advisor1, a refusal by advisor2, all of one fresh R3 product."""
    product = make_product(3)
    normal = start_sale(make_customer(age=40, level=4, name="王秀英"), product)
    disclose(normal)
    witnessed = start_sale(make_customer(age=68, level=3, name="陈志强"), product)
    disclose(witnessed)
    witness(witnessed)
    complete(witnessed, "Task_Recording", user("advisor1"), {"recording_ref": recording_ref(3)})
    refused = start_sale(make_customer(age=30, level=1, name="刘洋"), product, advisor="advisor2")
    return {"product": product, "normal": record_of(normal), "witnessed": record_of(witnessed),
            "refused": record_of(refused)}


@pytest.fixture
def api(web: Browserless):
    """``api(username)``: the API as that user, each request in its own app context like a real server."""
    return lambda username: Api(web.client, username)

def _refusals(username: str) -> int:
    db.session.commit()
    return db.session.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.username == username,
                                                                      SecurityEvent.kind == "refused")) or 0


def test_the_retail_head_reads_every_sale_and_filters_it(web: Browserless) -> None:
    sales = _three_sales()
    code = sales["product"].code
    web.login("retail")
    page = web.client.get(f"/sales?product={code}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-nav="sale-register"' in text
    for key in ("normal", "witnessed", "refused"):
        assert f'data-record="{sales[key].id}"' in text
    customer = sales["normal"].customer
    assert customer.id_number not in text and "王*" in text and "王秀英" not in text  # masked
    assert "Rule_ElderlyWitness" in text and "3 record(s)" in text
    only_refused = web.client.get(f"/sales?product={code}&status=refused").get_data(as_text=True)
    assert f'data-record="{sales["refused"].id}"' in only_refused
    assert f'data-record="{sales["normal"].id}"' not in only_refused
    witnessed = web.client.get(f"/sales?product={code}&outcome=witness&advisor=advisor1").get_data(as_text=True)
    assert f'data-record="{sales["witnessed"].id}"' in witnessed
    assert f'data-record="{sales["normal"].id}"' not in witnessed
    today = clock.today().isoformat()
    assert f'data-record="{sales["normal"].id}"' in web.client.get(
        f"/sales?product={code}&from={today}&to={today}").get_data(as_text=True)
    assert 'data-record="' not in web.client.get(f"/sales?product={code}&to=2000-01-01").get_data(as_text=True)
    paged = web.client.get(f"/sales?product={code}&per_page=2").get_data(as_text=True)
    assert paged.count('class="sale-record"') == 2 and 'id="page-next"' in paged
    bad = web.client.get("/sales?from=yesterday&outcome=maybe")
    assert bad.status_code == 422 and 'data-field="from"' in bad.get_data(as_text=True)
    zh = web.client.get(f"/sales?product={code}").get_data(as_text=True)
    assert "销售登记簿" in zh and "见证销售" in zh


def test_a_record_page_shows_the_rule_that_fired_and_links_to_its_case(web: Browserless) -> None:
    sales = _three_sales()
    row = sales["witnessed"]
    web.login("auditor")
    text = web.client.get(f"/sales/{row.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"suitability.dmn v{row.decision_version} · #4 · Rule_ElderlyWitness" in text
    assert f'href="/cases/{row.instance_id}"' in text and recording_ref(3) in text
    assert "Second risk warning" in text and user("retail").full_name in text
    refused = web.client.get(f"/sales/{sales['refused'].id}").get_data(as_text=True)
    assert "高于评估等级，客户不坚持" in refused and "Rule_AboveAssessment" in refused


def test_an_advisor_reads_their_own_sales_and_others_are_refused_and_logged(web: Browserless, api) -> None:
    sales = _three_sales()
    code = sales["product"].code
    web.login("advisor2")
    own = web.client.get(f"/sales?product={code}").get_data(as_text=True)
    assert f'data-record="{sales["refused"].id}"' in own and f'data-record="{sales["normal"].id}"' not in own
    before = _refusals("advisor2")
    assert web.client.get(f"/sales/{sales['normal'].id}").status_code == 403
    answer = api("advisor2").get(f"/sales/{sales['normal'].id}")
    assert answer.status_code == 403 and answer.get_json()["error"] == "no_part"
    assert _refusals("advisor2") == before + 2
    mine = api("advisor2").get(f"/sales?product={code}").get_json()
    assert [item["id"] for item in mine["items"]] == [sales["refused"].id]


def test_people_without_a_part_in_sales_are_refused_and_logged(web: Browserless, api) -> None:
    _three_sales()
    before = _refusals("finance")
    web.login("finance")
    assert 'data-nav="sale-register"' not in web.client.get("/").get_data(as_text=True)
    assert web.client.get("/sales").status_code == 403
    assert web.client.get("/sales/export.csv").status_code == 403
    answer = api("finance").get("/sales")
    assert answer.status_code == 403 and answer.get_json()["error"] == "forbidden"
    assert _refusals("finance") == before + 3


def test_the_csv_is_masked_with_a_bom_and_the_export_is_logged(web: Browserless) -> None:
    sales = _three_sales()
    web.login("gm")
    got = web.client.get(f"/sales/export.csv?product={sales['product'].code}", headers={"Accept-Language": "zh"})
    assert got.status_code == 200 and got.mimetype == "text/csv"
    body = got.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0][:3] == ["记录", "案件", "结束时间"] and len(rows) == 4
    assert all(sales[k].customer.id_number not in body for k in ("normal", "witnessed", "refused"))
    assert any("陈*" in r[4] and r[17] == recording_ref(3) for r in rows[1:])
    db.session.commit()
    logged = db.session.scalars(select(SecurityEvent).where(SecurityEvent.username == "gm", SecurityEvent.kind ==
                                                            "export").order_by(SecurityEvent.id.desc())).first()
    assert logged is not None and "sale register: 3 row(s)" in logged.detail


def test_the_api_lists_and_shows_sales_with_the_rule_and_the_inputs(api) -> None:
    sales = _three_sales()
    code = sales["product"].code
    page = api("retail").get(f"/sales?product={code}&per_page=2")
    body = page.get_json()
    assert page.status_code == 200 and body["total"] == 3 and len(body["items"]) == 2 and body["next"]
    one = api("retail").get(f"/sales/{sales['witnessed'].id}").get_json()
    assert one["decision"]["rule"] == "Rule_ElderlyWitness" and one["decision"]["row"] == 4
    assert one["decision"]["inputs"]["age"] == 68 and one["witness"]["username"] == "retail"
    assert one["customer"]["id_number"] != sales["witnessed"].customer.id_number and one["customer"]["name"] == "陈**"
    assert one["status"] == "completed" and one["recording_ref"] == recording_ref(3)
    refused = api("auditor").get(f"/sales?product={code}&status=refused").get_json()["items"]
    assert [(r["reason"], r["outcome"]) for r in refused] == [("above_assessment", "refused")]
    assert code not in refused[0]["suitable_products"]  # R3 is above C1
    bad = api("retail").get("/sales?outcome=maybe&from=2026-13-01")
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"outcome", "from"}
    assert api("retail").get("/sales?colour=red").status_code == 422
    assert api("retail").get("/sales/999999999").status_code == 404


def test_the_retail_head_and_the_gm_open_every_sale_the_register_lists(web: Browserless) -> None:
    """They oversee the register (``Family.case_readers``): a sale the GM witnessed, or one refused at once, opens
    for the retail head too — masked, as for participants; someone with no part in sales is refused and logged."""
    product = make_product(3)
    elderly, young = make_customer(age=70, level=3, name="赵秀兰"), make_customer(age=30, level=1, name="孙磊")
    numbers = {elderly.id_number, young.id_number}
    by_gm = start_sale(elderly, product)
    disclose(by_gm)
    witness(by_gm, "gm")  # waiting for the recording reference now
    refused = start_sale(young, product, advisor="advisor2")
    for reader in ("retail", "gm"):
        web.login(reader)
        for case in (by_gm, refused):
            page = web.client.get(f"/cases/{case.id}")
            assert page.status_code == 200, (reader, case.id)
            assert not any(n in page.get_data(as_text=True) for n in numbers)  # masked
        web.logout()
    before = _refusals("staff05")
    web.login("staff05")
    assert web.client.get(f"/cases/{by_gm.id}").status_code == 403
    assert _refusals("staff05") == before + 1
