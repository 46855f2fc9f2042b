"""The records' pages in both languages: the masked customer list with search, paging and export, a
customer's page (a whole view only for the keepers and auditors, logged), forms with per-field
errors, the guardian's scan, products and qualifications; outsiders refused (403, logged)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from tests.conftest import user
from tests.processes.sale.records_helpers import TODAY, by_number, customer_data, events, on, person, prc_id, refusals
from workflows.processes.sale import customers, demo_records
from workflows.processes.sale.models import WealthCustomer  # noqa: F401 - the table the pages read

ZH, EN = {"Accept-Language": "zh-CN"}, {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def _today() -> None:
    on(TODAY)


def make(**extra) -> WealthCustomer:
    return customers.create(user("retail"), customer_data(**extra))


def test_the_list_masks_numbers_and_finds_by_name_or_whole_id(web) -> None:
    c = make(name="列表客户甲")
    web.login("advisor1")
    page = web.client.get("/sale/customers?q=列表客户", headers=ZH).get_data(as_text=True)
    assert "财富客户" in page and "列表客户甲" in page
    assert c.id_number not in page and c.id_number[:3] + "*" * 11 + c.id_number[-4:] in page
    assert "13800138000" not in page and "138******00" in page
    assert "列表客户甲" in web.client.get(f"/sale/customers?q={c.id_number}").get_data(as_text=True)
    assert "列表客户甲" not in web.client.get(f"/sale/customers?q={c.id_number[:10]}").get_data(as_text=True)
    en = web.client.get("/sale/customers?q=列表客户", headers=EN).get_data(as_text=True)
    assert "Wealth customers" in en and "Expiring soon" not in en and "Valid" in en
    assert 'id="new-customer"' not in en  # advisors do not keep the records


def test_paging(web) -> None:
    for i in range(3):
        make(name=f"分页客户{i}")
    web.login("counter1")
    first = web.client.get("/sale/customers?q=分页客户", headers=EN).get_data(as_text=True)
    assert first.count('class="customer-row"') == 3
    from webapp.processes import sale_records
    sale_records.PER_PAGE, before = 2, sale_records.PER_PAGE
    try:
        one = web.client.get("/sale/customers?q=分页客户", headers=EN).get_data(as_text=True)
        two = web.client.get("/sale/customers?q=分页客户&page=2", headers=EN).get_data(as_text=True)
    finally:
        sale_records.PER_PAGE = before
    assert one.count('class="customer-row"') == 2 and two.count('class="customer-row"') == 1
    assert "Page 1 of 2" in one and 'id="next-page"' in one


def test_the_export_is_masked_and_logged(web) -> None:
    c = make(name="导出客户")
    web.login("retail")
    resp = web.client.get("/sale/customers/export.csv?q=导出客户", headers=ZH)
    text = resp.get_data(as_text=True)
    assert resp.mimetype == "text/csv" and text.startswith("\ufeff") and "导出客户" in text
    assert c.id_number not in text and "13800138000" not in text and "C3" in text
    assert events("export", "retail")[-1].startswith("wealth customers: 1 row(s), masked")


def test_a_whole_view_is_for_keepers_and_auditors_and_is_logged(web) -> None:
    c = make(name="保密客户")
    web.login("advisor1")
    masked = web.client.get(f"/sale/customers/{c.id}", headers=ZH).get_data(as_text=True)
    assert "保密客户" in masked and c.id_number not in masked and 'id="show-whole"' not in masked
    before = len(refusals("advisor1"))
    assert web.client.get(f"/sale/customers/{c.id}?whole=1").status_code == 403
    assert refusals("advisor1")[before:] == [f"customer {c.id} viewed whole"]
    web.logout()
    web.login("auditor")
    whole = web.client.get(f"/sale/customers/{c.id}?whole=1", headers=EN).get_data(as_text=True)
    assert c.id_number in whole and "this look is in the security log" in whole
    assert events("record_viewed", "auditor")[-1] == f"customer {c.id} viewed whole"
    assert 'id="edit-customer"' not in whole  # auditors read, they do not keep


def test_outsiders_are_refused_and_logged(web) -> None:
    c = make()
    for username in ("staff01", "admin"):
        web.login(username)
        before = len(refusals(username))
        for path in ("/sale/customers", f"/sale/customers/{c.id}", "/sale/products", "/sale/qualifications",
                     "/sale/customers/export.csv", "/sale/customers/new", "/sale/customers/import"):
            assert web.client.get(path).status_code == 403, (username, path)
        assert len(refusals(username)) - before == 7
        assert "财富客户" not in web.client.get("/", headers=ZH, follow_redirects=True).get_data(as_text=True)
        web.logout()
    web.login("advisor1")
    before = len(refusals("advisor1"))
    assert web.post("/sale/customers/new", customer_data()).status_code == 403
    assert web.post(f"/sale/customers/{c.id}/edit", {"name": "改名"}).status_code == 403
    assert len(refusals("advisor1")) - before == 2 and by_number(c.id_number).name == "测试客户"


def test_the_form_shows_each_error_in_the_users_language_and_saves(web) -> None:
    web.login("retail")
    form = web.client.get("/sale/customers/new", headers=ZH).get_data(as_text=True)
    assert "新增客户" in form and "法定监护人" in form
    bad = {**customer_data(birth=dt.date(2015, 1, 1)), "birth_date": "2015-01-02", "active": "true"}
    resp = web.post("/sale/customers/new", bad, headers=ZH)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "出生日期与证件号码中的出生日期（2015-01-01）不一致" in text and 'id="err-birth_date"' in text
    resp = web.post("/sale/customers/new", {**bad, "birth_date": ""}, headers=EN)
    assert "needs a legal guardian" in resp.get_data(as_text=True) and 'id="err-guardian_name"' in \
        resp.get_data(as_text=True)
    good = {**bad, "birth_date": "", "guardian_name": "周建国", "guardian_id_number": prc_id(dt.date(1980, 3, 3)),
            "guardian_relation": "father"}
    saved = web.post("/sale/customers/new", good)
    assert saved.status_code == 302
    minor = by_number(good["id_number"])
    page = web.client.get(saved.headers["Location"], headers=ZH).get_data(as_text=True)
    assert "未成年人" in page and "未核验" in page and 'id="verify-guardian"' in page
    edit = web.client.get(f"/sale/customers/{minor.id}/edit", headers=EN).get_data(as_text=True)
    assert minor.id_number in edit  # the form holds the whole number: a whole view, logged
    assert events("record_viewed", "retail")[-1] == f"customer {minor.id} viewed whole"
    done = web.post(f"/sale/customers/{minor.id}/guardian-document",
                    {"file": (io.BytesIO(demo_records.scan_png()), "监护人.png")}, content_type="multipart/form-data")
    assert done.status_code == 302
    page = web.client.get(f"/sale/customers/{minor.id}", headers=ZH).get_data(as_text=True)
    assert "已核验" in page and "监护人.png" in page and "核验人" in page
    doc = re.search(r'/sale/customers/\d+/documents/(\d+)', page)
    assert doc is not None
    file = web.client.get(doc.group(0))
    assert file.data == demo_records.scan_png() and file.headers["X-Content-Type-Options"] == "nosniff"
    assert events("record_viewed", "retail")[-1] == f"document {doc.group(1)} of customer {minor.id} viewed whole"
    history = page[page.index('id="history"'):]
    assert "监护人已核验" in history and minor.id_number not in history  # the history is masked too


def test_products_and_qualifications_pages(web) -> None:
    web.login("retail")
    assert "新增产品" in web.client.get("/sale/products/new", headers=ZH).get_data(as_text=True)
    code = f"PG-{prc_id()[-6:]}"
    resp = web.post("/sale/products/new", {"code": code, "name": "页面产品", "risk_rating": "R3", "term_months": "700",
                                           "active": "true"}, headers=EN)
    assert resp.status_code == 422 and "must be between 1 and 600" in resp.get_data(as_text=True)
    assert web.post("/sale/products/new", {"code": code, "name": "页面产品", "risk_rating": "R3",
                                           "term_months": "12", "active": "true"}).status_code == 302
    listed = web.client.get(f"/sale/products?q={code}", headers=ZH).get_data(as_text=True)
    assert "页面产品" in listed and "R3" in listed
    advisor = person()
    resp = web.post("/sale/qualifications", {"username": advisor.username, "certificate_no": "QP-1",
                                             "qualified_on": "2031-01-01", "expires_on": "2030-01-01"}, headers=ZH)
    assert resp.status_code == 422 and "资格到期日早于取得日期" in resp.get_data(as_text=True)
    recorded = web.post("/sale/qualifications", {"username": advisor.username, "certificate_no": f"QP-{advisor.id}",
                                                 "qualified_on": "2031-01-01", "expires_on": "2031-07-01"})
    assert recorded.status_code == 302
    page = web.client.get("/sale/qualifications", headers=ZH).get_data(as_text=True)
    row = page[page.index(f'data-username="{advisor.username}"'):]
    assert "即将到期" in row[:800] and f"QP-{advisor.id}" in row[:800]
    web.logout()
    web.login(advisor.username)
    own = web.client.get("/sale/qualifications", headers=EN).get_data(as_text=True)
    assert own.count('class="advisor-row"') == 1 and "Expiring soon" in own and 'id="qualification-form"' not in own
