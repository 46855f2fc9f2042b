"""The sale as the advisor meets it in the pages and the API: the start form, a refusal's reason and the
products offered on the case page and in the case's data, field errors in both languages."""

from __future__ import annotations

import re

import pytest

from tests.api.client import Api
from tests.conftest import Browserless
from tests.processes.sale.sale_steps import make_customer, make_product, qualify, sale_form


@pytest.fixture
def api(web: Browserless):
    return lambda username: Api(web.client, username)


def test_the_start_form_lists_the_products_and_a_refusal_shows_its_reason(web: Browserless) -> None:
    qualify("advisor1")
    customer, r1, r4 = make_customer(age=66, level=3), make_product(1, 3), make_product(4, 24)
    web.login("advisor1")
    form = web.client.get("/processes/high_risk_sale/start", headers={"Accept-Language": "zh"}).get_data(
        as_text=True)
    assert 'id="start-info"' in form and f"{r1.code} " in form and "期限3个月" in form
    assert 'data-field="customer"' in form and 'data-field="guardian_present"' in form
    started = web.post("/processes/high_risk_sale/start", data=sale_form(customer, r4))
    assert started.status_code == 302
    case_page = started.headers["Location"]
    en = web.client.get(case_page, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert re.search(r'data-key="reason">A customer aged 65 or over may not buy R4–R5<', en)
    assert re.search(r'data-key="outcome">Refused<', en) and r1.code in en and customer.id_number not in en
    zh = web.client.get(case_page, headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "65周岁以上客户不得购买R4–R5" in zh and "拒绝" in zh


def test_an_unknown_customer_is_a_field_error_in_the_users_language(web: Browserless) -> None:
    qualify("advisor1")
    product = make_product(2)
    web.login("advisor1")
    data = {**sale_form(make_customer(), product), "customer": "ZZ0000000000"}
    zh = web.post("/processes/high_risk_sale/start", data=data, headers={"Accept-Language": "zh"})
    assert zh.status_code == 422 and "没有使用此证件号码的有效客户" in zh.get_data(as_text=True)
    en = web.post("/processes/high_risk_sale/start", data=data, headers={"Accept-Language": "en"})
    assert "no active customer has this ID number" in en.get_data(as_text=True)


def test_the_api_starts_a_sale_and_gives_the_refusal_and_the_products_in_the_case_data(api) -> None:
    qualify("advisor1")
    customer, r2, r4 = make_customer(age=40, level=2), make_product(2, 6), make_product(4, 24)
    answer = api("advisor1").post("/processes/high_risk_sale/instances", sale_form(customer, r4))
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "completed" and body["outcome"] == "End_Refused"
    assert body["data"]["outcome"] == "refused" and body["data"]["reason"] == "above_assessment"
    assert r2.code in body["data"]["suitable_products"] and r4.code not in body["data"]["suitable_products"]
    assert body["data"]["customer"] != customer.id_number  # masked
    wrong = api("advisor1").post("/processes/high_risk_sale/instances",
                                 {**sale_form(customer, r4), "product": "NO-SUCH"})
    assert wrong.status_code == 422 and wrong.get_json()["error"] == "sale_unknown_record"
    assert wrong.get_json()["field_codes"] == {"product": "unknown_product"}
