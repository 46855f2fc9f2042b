"""CSV import of customers and products: a bad file is refused whole with each error's line and
column and nothing written; a good one (UTF-8 with or without BOM, English keys or Chinese headers)
creates and updates records in one go, each with its `imported` history row; pages and API alike."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.api.client import api  # noqa: F401 - the API fixture
from tests.conftest import user
from tests.processes.sale.records_helpers import TODAY, by_number, counts, history, on, prc_id, product_code
from workflows.errors import field_code
from workflows.processes.sale import customers, imports, products


@pytest.fixture(autouse=True)
def _today() -> None:
    on(TODAY)


def lines(*rows: str, bom: bool = False) -> bytes:
    return (("\ufeff" if bom else "") + "\r\n".join(rows) + "\r\n").encode("utf-8")


def refused(data: bytes, run=imports.import_customers) -> dict[str, str]:
    before = counts()
    with pytest.raises(imports.ImportRefused) as exc:
        run(user("retail"), data)
    assert counts() == before  # refused whole: nothing written
    assert exc.value.code == "import_refused"
    return {k: field_code(v) for k, v in exc.value.fields.items()}


def test_a_bad_file_is_refused_whole_naming_each_errors_line_and_column() -> None:
    good = prc_id()
    known = prc_id(dt.date(1970, 2, 2))
    bad_check = good[:17] + ("1" if good[17] == "0" else "0")
    data = lines("name,id_number,birth_date,risk_level,assessed_on,assessment_expires_on",
                 f"好客户,{prc_id()},,C3,2031-01-01,2031-12-31",
                 f"坏校验,{bad_check},,C3,2031-01-01,2031-12-31",
                 f"错生日,{known},1970-02-03,C3,2031-01-01,2031-12-31",
                 "",
                 f",{prc_id()},,C9,2031-05-01,2031-04-30",
                 f"重复,{known},,C1,2031-01-01,2031-12-31")
    assert refused(data) == {
        "line 3, column 2 (id_number)": "id_checksum",
        "line 4, column 3 (birth_date)": "birth_date_mismatch",
        "line 6, column 1 (name)": "required",
        "line 6, column 4 (risk_level)": "not_a_level",
        "line 6, column 6 (assessment_expires_on)": "expiry_before_assessment",
        "line 7, column 2 (id_number)": "duplicate",
    }


def test_the_form_of_the_file_is_checked_first() -> None:
    assert refused(lines("name,idnumber,name")) == {"line 1, column 2 (idnumber)": "unknown_column",
                                                    "line 1, column 3 (name)": "duplicate_column",
                                                    "line 1 (id_number)": "missing_column"}
    assert refused(lines("name,id_number", f"甲,{prc_id()},extra")) == {"line 2, column 3": "wrong_cell_count"}
    assert refused(lines("name,id_number")) == {"line 2": "empty_file"}
    assert refused(b"") == {"line 1": "empty_file"}
    latin = b"name,id_number\r\n" + "Zoë,E1234567\r\n".encode("latin-1")
    assert refused(latin) == {"line 2": "not_utf8"}


def test_a_good_file_creates_and_updates_with_chinese_headers_and_a_bom() -> None:
    keeper = user("retail")
    existing = customers.create(keeper, {"name": "老客户", "id_number": prc_id(dt.date(1966, 6, 6)),
                                         "phone": "13900000000", "risk_level": "C2", "assessed_on": "2030-01-01",
                                         "assessment_expires_on": "2030-12-31"})
    unchanged = customers.create(keeper, {"name": "不变", "id_number": prc_id(dt.date(1967, 7, 7))})
    new_adult, new_minor = prc_id(dt.date(1990, 1, 31)), prc_id(dt.date(2016, 3, 3))
    guardian = prc_id(dt.date(1988, 8, 8))
    data = lines("姓名,证件号码,风险等级,测评日期,测评到期日,监护人姓名,监护人证件号码,监护关系",
                 f"老客户,{existing.id_number},C4,2031-06-01,2032-05-31,,,",
                 f"新客户,{new_adult},3,2031-02-01,2032-01-31,,,",
                 f"小客户,{new_minor},C1,2031-02-01,2032-01-31,周建国,{guardian},父亲",
                 f"不变,{unchanged.id_number},,,,,,", bom=True)
    result = imports.import_customers(keeper, data, via="api")
    assert (len(result.created), len(result.updated), result.unchanged) == (2, 1, [unchanged.id])
    assert result.updated == [existing.id]
    db_existing = by_number(existing.id_number)
    assert (db_existing.risk_level, db_existing.phone) == (4, "13900000000")  # no phone column: kept
    changed = history("customer", existing.id)[-1]
    assert changed.action == "imported" and changed.via == "api"
    assert changed.changes == {"risk_level": [2, 4], "assessed_on": ["2030-01-01", "2031-06-01"],
                               "assessment_expires_on": ["2030-12-31", "2032-05-31"]}
    minor = by_number(new_minor)
    assert minor.birth_date == dt.date(2016, 3, 3) and minor.guardian_relation == "father"
    assert history("customer", minor.id)[0].changes["name"] == [None, "小客户"]
    assert len(history("customer", unchanged.id)) == 1  # nothing changed: no row


def test_products_import_by_code() -> None:
    keeper = user("retail")
    known = products.create(keeper, {"code": product_code(), "name": "旧名", "risk_rating": "R2",
                                     "term_months": "6"})
    fresh = product_code()
    bad = lines("code,name,risk_rating,term_months", f"{fresh},新品,R6,0", f"{known.code},,R2,6")
    assert refused(bad, imports.import_products) == {"line 2, column 3 (risk_rating)": "not_a_level",
                                                     "line 2, column 4 (term_months)": "out_of_range",
                                                     "line 3, column 2 (name)": "required"}
    good = lines("产品代码,产品名称,产品风险等级,期限（月）,在售", f"{fresh},新品,R4,24,是",
                 f"{known.code},新名,R2,6,否")
    result = imports.import_products(keeper, good)
    assert (len(result.created), result.updated) == (1, [known.id])
    assert (known.name, known.active) == ("新名", False)
    assert history("product", known.id)[-1].changes == {"name": ["旧名", "新名"], "active": [True, False]}


def test_the_import_page_lists_the_errors_and_imports_a_good_file(web) -> None:
    web.login("retail")
    page = web.client.get("/sale/customers/import", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "导入客户" in page and "证件号码" in page and "CSV UTF-8" in page
    before = counts()
    bad = lines("name,id_number", f"甲,{prc_id()[:17]}")
    resp = web.post("/sale/customers/import", {"file": (__import__("io").BytesIO(bad), "c.csv")},
                    content_type="multipart/form-data", headers={"Accept-Language": "en"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'class="import-error"' in text and "not an identity-document number" in text
    assert "nothing was imported" in text and counts() == before
    number = prc_id()
    resp = web.post("/sale/customers/import", {"file": (__import__("io").BytesIO(lines("name,id_number",
                                                                                       f"乙,{number}")), "c.csv")},
                    content_type="multipart/form-data", headers={"Accept-Language": "zh-CN"})
    assert resp.status_code == 200 and "新增1" in resp.get_data(as_text=True)
    assert by_number(number).name == "乙" and history("customer", by_number(number).id)[0].via == "web"


def test_the_api_import_answers_the_same(api) -> None:  # noqa: F811 - the fixture
    keeper = api("retail")
    body = lines("name,id_number,risk_level,assessed_on,assessment_expires_on",
                 f"丙,{prc_id()},C7,2031-01-01,2031-12-31")
    before = counts()
    resp = keeper.client.post("/api/v1/customers/import", data=body, headers={**keeper.headers,
                                                                            "Content-Type": "text/csv"})
    answer = resp.get_json()
    assert resp.status_code == 422 and answer["error"] == "import_refused"
    assert answer["field_codes"] == {"line 2, column 3 (risk_level)": "not_a_level"}
    assert answer["figures"] == {"errors": 1, "shown": 1} and counts() == before
    number = prc_id()
    ok = keeper.client.post("/api/v1/customers/import", data=lines("name,id_number", f"丁,{number}"),
                            headers={**keeper.headers, "Content-Type": "text/csv"})
    assert ok.status_code == 200 and ok.get_json()["created"] == [by_number(number).id]
    outsider = api("staff01")
    resp = outsider.client.post("/api/v1/products/import", data=b"code\r\n", headers=outsider.headers)
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"
