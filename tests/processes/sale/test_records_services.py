"""The wealth records' rules without HTTP: ID numbers (checksum, birth date), the assessment's dates
and validity, a minor's guardian and its verified scan, unique numbers and codes, qualifications and
their dates; every change writes its history row, every refusal writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import user
from tests.processes.sale.records_helpers import (
    TODAY,
    by_number,
    counts,
    customer_data,
    history,
    on,
    person,
    prc_id,
    product_code,
    refusals,
)
from workflows.cases.forms import Upload
from workflows.errors import Conflict, Forbidden, Invalid, field_code
from workflows.processes.sale import customers, demo_records, identity, products, qualifications

PNG = demo_records.scan_png()
_GOOD = identity.make_prc_id("110101", dt.date(1980, 1, 1), 1)
BAD_CHECK = _GOOD[:17] + ("1" if _GOOD[17] == "0" else "0")


@pytest.fixture(autouse=True)
def _today() -> None:
    on(TODAY)


def codes(exc: pytest.ExceptionInfo) -> dict[str, str]:
    return {k: field_code(v) for k, v in exc.value.fields.items()}


def test_resident_id_numbers_are_checked_by_checksum_and_birth_date() -> None:
    good = identity.make_prc_id("110101", dt.date(1960, 3, 15), 22)
    assert identity.check(good) is None and identity.prc_birth_date(good) == dt.date(1960, 3, 15)
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    assert identity.check(wrong_check).code == "id_checksum"
    no_date = "110101" + "19601345" + "123"
    assert identity.check(no_date + identity.checksum_char(no_date)).code == "id_birth_date"
    assert identity.check("11010119600315223").code == "id_format"  # 17 digits: a typo, not another document
    assert identity.check("E12345678") is None  # a passport
    assert identity.check("11010119600315222x".upper().replace("X", "")).code == "id_format"
    assert identity.normalise_id(" 110101 1960 0315 022x ") == "110101196003150" + "22X"


def test_a_customer_is_recorded_with_its_history_row_in_the_same_transaction() -> None:
    keeper = user("retail")
    data = customer_data(birth_date="", phone=" 138 0013 8000 ")  # the birth date read from the ID card
    customer = customers.create(keeper, data, via="api")
    assert customer.birth_date == dt.date(1980, 1, 1) and customer.phone == "138 0013 8000"
    assert customer.risk_level == 3 and customer.assessment_expires_on == dt.date(2032, 1, 9)
    (row,) = history("customer", customer.id)
    assert (row.action, row.via, row.user_id) == ("created", "api", keeper.id)
    assert row.changes["id_number"] == [None, data["id_number"]] and row.changes["risk_level"] == [None, 3]
    assert row.changes["birth_date"] == [None, "1980-01-01"]


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"birth_date": "1980-01-02"}, "birth_date", "birth_date_mismatch"),
    ({"id_number": BAD_CHECK}, "id_number", "id_checksum"),
    ({"assessment_expires_on": "2031-01-09"}, "assessment_expires_on", "expiry_before_assessment"),
    ({"assessed_on": ""}, "assessed_on", "assessment_incomplete"),
    ({"assessed_on": "2031-06-16"}, "assessed_on", "future_date"),
    ({"risk_level": "C6"}, "risk_level", "not_a_level"),
    ({"phone": "call me"}, "phone", "not_a_phone"),
    ({"name": ""}, "name", "required"),
    ({"guardian_name": "某人"}, "guardian_id_number", "guardian_incomplete"),
    ({"guardian_relation": "uncle"}, "guardian_relation", "not_an_option"),
])
def test_each_wrong_value_is_refused_with_its_field_code_and_nothing_written(change, field, code) -> None:
    before = counts()
    with pytest.raises(Invalid) as refused:
        customers.create(user("retail"), customer_data(**change))
    assert codes(refused)[field] == code
    assert counts() == before


def test_a_minor_needs_a_guardian_who_is_an_adult_and_not_the_customer() -> None:
    birth = dt.date(2014, 6, 16)  # 17 on TODAY: the 18th birthday is tomorrow
    with pytest.raises(Invalid) as refused:
        customers.create(user("retail"), customer_data(birth=birth))
    assert set(codes(refused).values()) == {"guardian_required"}
    data = customer_data(birth=birth)
    with pytest.raises(Invalid) as refused:
        customers.create(user("retail"), {**data, "guardian_name": "小哥", "guardian_relation": "other",
                                          "guardian_id_number": prc_id(dt.date(2015, 1, 1))})
    assert codes(refused) == {"guardian_id_number": "guardian_is_minor"}
    with pytest.raises(Invalid) as refused:
        customers.create(user("retail"), {**data, "guardian_name": "自己", "guardian_relation": "father",
                                          "guardian_id_number": data["id_number"]})
    assert codes(refused) == {"guardian_id_number": "guardian_is_customer"}
    adult_today = customer_data(birth=dt.date(2013, 6, 15))  # the 18th birthday is today: no guardian needed
    assert customers.create(user("retail"), adult_today).guardian_name is None


def test_the_same_id_number_twice_is_refused() -> None:
    data = customer_data()
    customers.create(user("retail"), data)
    with pytest.raises(Invalid) as refused:
        customers.create(user("retail"), {**data, "name": "另一位", "id_number": data["id_number"].lower()})
    assert codes(refused) == {"id_number": "taken"}


def test_assessment_status_and_validity_include_the_expiry_day() -> None:
    keeper = user("retail")
    today = customers.create(keeper, customer_data(assessment_expires_on=TODAY.isoformat()))
    yesterday = customers.create(keeper, customer_data(assessment_expires_on=(TODAY - dt.timedelta(1)).isoformat()))
    later = customers.create(keeper, customer_data(assessment_expires_on="2031-07-15"))  # 30 days on
    far = customers.create(keeper, customer_data(assessment_expires_on="2031-07-16"))
    none = customers.create(keeper, customer_data(risk_level="", assessed_on="", assessment_expires_on=""))
    assert [customers.assessment_status(c) for c in (today, yesterday, later, far, none)] == [
        "expiring", "expired", "expiring", "valid", "none"]
    assert customers.assessment_valid_on(today, TODAY) and not customers.assessment_valid_on(yesterday, TODAY)
    assert not customers.assessment_valid_on(far, dt.date(2031, 1, 9))  # before it was made


def test_the_guardians_scan_verifies_and_a_new_guardian_clears_the_verification() -> None:
    keeper = user("retail")
    data = customer_data(birth=dt.date(2020, 2, 29), guardian_name="周建国", guardian_relation="父亲",
                         guardian_id_number=prc_id(dt.date(1985, 5, 5)))
    minor = customers.create(keeper, data)
    assert minor.guardian_relation == "father" and not customers.guardian_verified(minor)
    with pytest.raises(Invalid) as refused:
        customers.verify_guardian(keeper, minor.id, Upload("id.exe", "application/octet-stream", b"MZ"))
    assert codes(refused) == {"file": "file_type"}
    with pytest.raises(Invalid) as refused:
        customers.verify_guardian(keeper, minor.id, Upload("id.png", "image/png", b"%PDF-1.4 not a png"))
    assert codes(refused) == {"file": "file_content_mismatch"}
    with pytest.raises(Invalid) as refused:
        customers.verify_guardian(keeper, minor.id, None)
    assert codes(refused) == {"file": "file_required"}
    doc = customers.verify_guardian(keeper, minor.id, Upload("监护人.png", "image/png", PNG), via="api")
    assert customers.guardian_verified(minor) and minor.guardian_verified_by_id == keeper.id
    assert doc.kind == "guardian_id" and doc.size == len(PNG) and doc.uploaded_by_id == keeper.id
    verified = history("customer", minor.id)[-1]
    assert verified.action == "verified" and verified.changes["guardian_document"] == [None, doc.id]
    assert verified.changes["guardian_verified_by"] == [None, "retail"]

    customers.update(keeper, minor.id, {"guardian_name": "周建华"})
    assert not customers.guardian_verified(minor)
    changed = history("customer", minor.id)[-1]
    assert changed.action == "updated" and changed.changes["guardian_name"] == ["周建国", "周建华"]
    assert changed.changes["guardian_verified_by"] == ["retail", None]


def test_an_update_changes_only_what_is_given_and_a_new_id_card_brings_its_birth_date() -> None:
    keeper = user("retail")
    customer = customers.create(keeper, customer_data())
    number = prc_id(dt.date(1975, 9, 9))
    customers.update(keeper, customer.id, {"id_number": number, "risk_level": "4"}, via="api")
    assert (customer.id_number, customer.birth_date, customer.risk_level) == (number, dt.date(1975, 9, 9), 4)
    assert customer.phone == "13800138000"
    row = history("customer", customer.id)[-1]
    assert set(row.changes) == {"id_number", "birth_date", "risk_level"} and row.via == "api"
    customers.update(keeper, customer.id, {"risk_level": "C4"})  # nothing changes: no history row
    assert len(history("customer", customer.id)) == 2


def test_only_the_keepers_change_records_and_refusals_are_logged() -> None:
    before = len(refusals("advisor1"))
    with pytest.raises(Forbidden):
        customers.create(user("advisor1"), customer_data(), path="/sale/customers/new")
    with pytest.raises(Forbidden):
        products.create(user("advisor1"), {"code": product_code(), "name": "x", "risk_rating": "R1",
                                           "term_months": "3"}, path="/sale/products/new")
    assert refusals("advisor1")[before:] == ["/sale/customers/new", "/sale/products/new"]
    with pytest.raises(Forbidden):
        customers.create(user("admin"), customer_data())  # the administrator runs the system, not client data
    assert customers.create(user("gm"), customer_data()).id  # the GM is above the retail head


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"term_months": "0"}, "term_months", "out_of_range"),
    ({"term_months": "601"}, "term_months", "out_of_range"),
    ({"term_months": "1.5"}, "term_months", "not_a_whole_number"),
    ({"risk_rating": "R6"}, "risk_rating", "not_a_level"),
    ({"code": "A B/C"}, "code", "pattern"),
    ({"name": ""}, "name", "required"),
])
def test_wrong_product_values_are_refused(change, field, code) -> None:
    with pytest.raises(Invalid) as refused:
        products.create(user("retail"), {"code": product_code(), "name": "产品", "risk_rating": "R3",
                                         "term_months": "12", **change})
    assert codes(refused) == {field: code}


def test_a_product_code_is_unique_and_changes_are_recorded() -> None:
    code = product_code()
    product = products.create(user("retail"), {"code": code.lower(), "name": "平衡", "risk_rating": "3",
                                               "term_months": "12", "active": True})
    assert (product.code, product.risk_rating, product.active) == (code.upper(), 3, True)
    with pytest.raises(Invalid) as refused:
        products.create(user("retail"), {"code": code, "name": "另一个", "risk_rating": "R1", "term_months": "1"})
    assert codes(refused) == {"code": "taken"}
    products.update(user("gm"), product.id, {"term_months": 24, "active": False}, via="api")
    rows = history("product", product.id)
    assert [r.action for r in rows] == ["created", "updated"]
    assert rows[1].changes == {"term_months": [12, 24], "active": [True, False]} and rows[1].via == "api"


def test_a_qualification_covers_its_days_until_revoked() -> None:
    advisor = person()
    keeper = user("retail")
    assert qualifications.current(advisor, TODAY) is None
    row = qualifications.record(keeper, {"username": advisor.username, "certificate_no": f"Q-{advisor.id}",
                                         "qualified_on": "2030-01-01", "expires_on": TODAY.isoformat()})
    assert qualifications.current(advisor, TODAY) == row
    assert qualifications.current(advisor, TODAY + dt.timedelta(1)) is None
    assert qualifications.current(advisor, dt.date(2029, 12, 31)) is None
    assert qualifications.status(row) == "expiring"
    assert history("qualification", row.id)[0].changes["user"] == [None, advisor.username]
    qualifications.revoke(keeper, row.id, "证书被注销", via="api")
    assert qualifications.current(advisor, TODAY) is None and qualifications.status(row) == "revoked"
    with pytest.raises(Conflict) as again:
        qualifications.revoke(keeper, row.id, "again")
    assert again.value.code == "already_revoked"
    assert history("qualification", row.id)[-1].changes["reason"] == [None, "证书被注销"]


def test_wrong_qualifications_are_refused() -> None:
    advisor = person()
    keeper = user("retail")
    base = {"username": advisor.username, "certificate_no": f"W-{advisor.id}", "qualified_on": "2031-01-01",
            "expires_on": "2033-01-01"}
    for change, expected in (({"expires_on": "2030-12-31"}, {"expires_on": "expiry_before_assessment"}),
                             ({"qualified_on": "2031-06-16"}, {"qualified_on": "future_date"}),
                             ({"username": "nobody-here"}, {"username": "unknown_user"}),
                             ({"certificate_no": ""}, {"certificate_no": "required"})):
        with pytest.raises(Invalid) as refused:
            qualifications.record(keeper, {**base, **change})
        assert codes(refused) == expected
    qualifications.record(keeper, base)
    with pytest.raises(Invalid) as refused:
        qualifications.record(keeper, {**base, "username": person().username})
    assert codes(refused) == {"certificate_no": "taken"}


def test_the_demo_records_are_valid_and_written_once() -> None:
    demo_records.records_samples()
    before = counts()
    demo_records.records_samples()
    assert counts() == before
    for name, _region, birth, *_rest in demo_records.CUSTOMERS:
        number = demo_records.id_number(name)
        assert identity.check(number) is None and identity.prc_birth_date(number) == birth
        assert by_number(number).birth_date == birth
    minor = by_number(demo_records.id_number("周子涵"))
    assert minor.guardian_name == "周建国" and customers.guardian_verified(minor)
    assert identity.check(minor.guardian_id_number) is None
    on(dt.date(2026, 11, 23))
    assert customers.assessment_status(by_number(demo_records.id_number("张桂兰"))) == "expired"
    assert qualifications.current(user("advisor1"), dt.date(2028, 12, 31)) is not None
    assert qualifications.current(user("advisor3"), dt.date(2026, 7, 1)) is None
