"""Forms a client can render and check: the API describes each field's constraints and
conditional requirement as the server enforces them, and a value the description rules out is
refused with the same message through the API and through the web page."""

from __future__ import annotations

import base64
import datetime as dt
import io
import itertools
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lxml import html

from tests.conftest import unique_id_number, user
from tests.processes.ownership.steps import PDF, registration
from workflows.cases import commands, definitions
from workflows.cases.forms import DEFAULT_ACCEPT, DEFAULT_MAX_UPLOAD, MAX_NUMBER
from workflows.engine.conditions import condition_tree
from workflows.engine.sandbox import RestrictedEnvironment

PROCESS = "client_ownership"


def holds(tree: dict[str, Any], data: dict[str, Any]) -> bool:
    """A client's evaluation of a requiredWhen tree, as documented (Condition)."""
    if "all" in tree:
        return all(holds(part, data) for part in tree["all"])
    if "any" in tree:
        return any(holds(part, data) for part in tree["any"])
    if "not" in tree:
        return not holds(tree["not"], data)
    value, const = data.get(tree["field"]), tree.get("value")
    tests = {"==": lambda: value == const, "!=": lambda: value != const, "in": lambda: value in const,
             "not in": lambda: value not in const, "truthy": lambda: bool(value),
             "<": lambda: value < const, "<=": lambda: value <= const,
             ">": lambda: value > const, ">=": lambda: value >= const}
    return bool(tests[tree["op"]]())


def fields(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in items}


def page_errors(page: str) -> dict[str, str]:
    """Field id -> the message the page shows under it."""
    doc = html.fromstring(page)
    return {el.get("id")[4:]: el.text_content().strip() for el in doc.xpath('//div[@class="field-error"][@id]')}


def page_language(page: str) -> str:
    return "zh" if html.fromstring(page).get("lang", "").startswith("zh") else "en"


def refusals(api, path: str, data: dict[str, Any], language: str) -> tuple[dict[str, str], dict[str, str]]:
    """The API's field messages for ``data``, in ``language`` and in English."""
    out = []
    for lang in (language, "en"):
        api.headers["Accept-Language"] = lang
        resp = api.post(path, data)
        assert resp.status_code == 422, resp.get_json()
        out.append(resp.get_json()["fields"])
    api.headers["Accept-Language"] = "en"
    return out[0], out[1]


# --- the description --------------------------------------------------------------------


def test_start_form_lists_every_constraint_validate_applies(api) -> None:
    staff = api("staff06")
    listed = next(p for p in staff.get("/processes").get_json()["items"] if p["key"] == PROCESS)
    one = staff.get(f"/processes/{PROCESS}")
    assert one.status_code == 200 and one.get_json() == listed
    f = fields(listed["start_form"])
    assert f["client_name"]["label"] == "Client name" and f["client_name"]["required"]
    assert f["client_name"]["constraints"] == {"min_length": None, "max_length": 50, "pattern": None,
                                               "multiline": False}
    # no maxlength in the diagram: the implicit 500 characters of a string field
    assert f["client_id_number"]["constraints"] == {"min_length": None, "max_length": 500,
                                                    "pattern": "[0-9A-Za-z]{6,20}", "multiline": False}
    assert f["estimated_assets"]["constraints"] == {"minimum": 0, "maximum": MAX_NUMBER, "max_decimal_places": 10}
    assert f["planned_open_date"]["constraints"] == {"minimum": "1900-01-01", "maximum": "2200-12-31"}
    assert f["accompany"] == {"id": "accompany", "label": "I will accompany the client", "type": "boolean",
                              "required": False, "readonly": False, "default": None, "options": [],
                              "constraints": {}, "required_when": None}
    staff.headers["Accept-Language"] = "zh"
    assert fields(staff.get(f"/processes/{PROCESS}").get_json()["start_form"])["client_name"]["label"] == "客户姓名"
    missing = staff.get("/processes/no_such_process")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"


def test_task_form_lists_files_and_conditional_requirements(api) -> None:
    cid = api("staff05").post(f"/processes/{PROCESS}/instances", registration(unique_id_number())).get_json()["id"]
    support = api("support1")
    confirm = fields(support.get(f"/tasks/{support.open_task(cid, 'Task_ConfirmReservation')['id']}")
                     .get_json()["form"])
    assert confirm["comment"]["constraints"] == {"min_length": None, "max_length": 4000, "pattern": None,
                                                 "multiline": True}
    assert confirm["comment"]["required_when"] == {
        "expression": "decision != 'approve'", "condition": {"field": "decision", "op": "!=", "value": "approve"}}
    assert [o["id"] for o in confirm["decision"]["options"]] == ["approve", "send_back", "reject"]
    support.complete_step(cid, "Task_ConfirmReservation", {"decision": "approve"})
    counter = api("counter1")
    form = fields(counter.get(f"/tasks/{counter.open_task(cid, 'Task_CounterOpening')['id']}").get_json()["form"])
    # the diagram names the types but no size: the default maximum applies
    assert form["scanned_form"]["constraints"] == {"accept": sorted(DEFAULT_ACCEPT), "max_size": DEFAULT_MAX_UPLOAD}
    assert form["scanned_form"]["required_when"]["condition"] == {"field": "decision", "op": "==",
                                                                  "value": "approve"}
    assert form["account_no"]["constraints"]["pattern"] == "[0-9]{6,20}"
    assert form["comment"]["required_when"]["condition"] == {"any": [
        {"field": "decision", "op": "!=", "value": "approve"},
        {"not": {"field": "signed_by_client", "op": "truthy"}},
        {"all": [{"not": {"field": "staff_present", "op": "truthy"}},
                 {"not": {"field": "support_informed", "op": "truthy"}}]}]}


def test_every_required_when_of_the_real_diagram_reads_as_the_engine_evaluates_it() -> None:
    built = definitions.built_for(definitions.latest(PROCESS))
    env = RestrictedEnvironment()
    checked = 0
    for meta in built.meta.tasks.values():
        options = {ff.id: [k for k, _ in ff.options] or [True, False] for ff in meta.form}
        for ff in meta.form:
            if not ff.required_when:
                continue
            tree = condition_tree(ff.required_when)
            assert tree is not None, ff.required_when
            names = sorted(set(re.findall(r"[A-Za-z_]\w*", ff.required_when)) & set(options))
            for values in itertools.product(*(options[n] + [None] for n in names)):
                data = dict(zip(names, values, strict=True))
                assert holds(tree, data) == bool(env.evaluate(ff.required_when, data)), (ff.required_when, data)
            checked += 1
    assert checked >= 7


def test_conditions_beyond_comparisons_are_given_as_text_only() -> None:
    assert condition_tree("amount > limit") is None  # two fields
    assert condition_tree("len(comment) < 3") is None  # a call
    assert condition_tree("'x' in comment") is None  # a search in a text
    assert condition_tree("__import__('os')") is None
    assert condition_tree("kind in ('a', 'b')") == {"field": "kind", "op": "in", "value": ["a", "b"]}
    assert condition_tree("100 <= amount") == {"field": "amount", "op": ">=", "value": 100}


# --- the same refusal from the API and the page --------------------------------------------


START_VIOLATIONS = [
    ("client_name", lambda c: "名" * (c["max_length"] + 1), "at most 50 characters"),
    ("client_id_number", lambda c: "AB-12!", "not in the expected format"),
    ("estimated_assets", lambda c: str(c["minimum"] - 1), "must be at least 0"),
    ("estimated_assets", lambda c: "1." + "1" * (c["max_decimal_places"] + 1), "at most 10 decimal places"),
    ("planned_open_date",
     lambda c: (dt.date.fromisoformat(c["minimum"]) - dt.timedelta(days=1)).isoformat(), "date out of range"),
]


@pytest.mark.parametrize(("field_id", "violate", "english"), START_VIOLATIONS)
def test_start_form_refuses_what_its_description_rules_out_on_both_doors(api, web, field_id, violate,
                                                                         english) -> None:
    staff = api("staff07")
    c = fields(staff.get(f"/processes/{PROCESS}").get_json()["start_form"])[field_id]["constraints"]
    bad = violate(c)
    if c.get("pattern"):
        assert re.fullmatch(c["pattern"], bad) is None  # the description rules it out
    data = {**registration(unique_id_number()), field_id: bad}
    web.login("staff07")
    page = web.post(f"/processes/{PROCESS}/start", data)
    assert page.status_code == 422
    shown = page_errors(page.get_data(as_text=True))
    in_language, in_english = refusals(staff, f"/processes/{PROCESS}/instances", data,
                                       page_language(page.get_data(as_text=True)))
    assert set(shown) == set(in_language) == {field_id}
    assert shown[field_id] == in_language[field_id] and in_english[field_id] == english


def test_start_form_accepts_the_limits_themselves_on_both_doors(api, web) -> None:
    staff = api("staff07")
    c = fields(staff.get(f"/processes/{PROCESS}").get_json()["start_form"])
    edge = {"client_name": "名" * c["client_name"]["constraints"]["max_length"],
            "estimated_assets": str(c["estimated_assets"]["constraints"]["minimum"])}
    assert staff.post(f"/processes/{PROCESS}/instances",
                      {**registration(unique_id_number()), **edge}).status_code == 201
    web.login("staff07")
    assert web.post(f"/processes/{PROCESS}/start", {**registration(unique_id_number()), **edge}).status_code == 302


def _task_id(api, cid: int, username: str, key: str) -> int:
    return api(username).open_task(cid, key)["id"]


def test_required_when_and_options_are_refused_alike_and_the_condition_decides(api, web) -> None:
    cid = api("staff04").post(f"/processes/{PROCESS}/instances", registration(unique_id_number())).get_json()["id"]
    support = api("support1")
    task_id = _task_id(api, cid, "support1", "Task_ConfirmReservation")
    form = fields(support.get(f"/tasks/{task_id}").get_json()["form"])
    condition = form["comment"]["required_when"]["condition"]
    assert holds(condition, {"decision": "send_back"}) and not holds(condition, {"decision": "approve"})
    assert "maybe" not in {o["id"] for o in form["decision"]["options"]}
    too_long = "意" * (form["comment"]["constraints"]["max_length"] + 1)
    web.login("support1")
    for data, english in (({"decision": "send_back"}, {"comment": "this field is required here"}),
                          ({"decision": "maybe"}, {"decision": "not one of the allowed options"}),
                          ({"decision": "reject", "comment": too_long}, {"comment": "at most 4000 characters"})):
        page = web.post(f"/tasks/{task_id}", data)
        assert page.status_code == 422
        in_language, in_english = refusals(support, f"/tasks/{task_id}/complete", data,
                                           page_language(page.get_data(as_text=True)))
        assert in_english == english
        for key, message in page_errors(page.get_data(as_text=True)).items():
            assert in_language[key] == message
        if "decision" in english:  # shown under the decision buttons, which have no id of their own
            assert in_language["decision"] in page.get_data(as_text=True)
    # the condition does not hold: no comment needed, and the page takes it
    assert web.post(f"/tasks/{task_id}", {"decision": "approve"}).status_code == 302


def _counter_case(api) -> tuple[int, int]:
    cid = api("staff03").post(f"/processes/{PROCESS}/instances", registration(unique_id_number())).get_json()["id"]
    api("support1").complete_step(cid, "Task_ConfirmReservation", {"decision": "approve"})
    return cid, _task_id(api, cid, "counter1", "Task_CounterOpening")


COUNTER = {"account_no": "880012345611", "signed_by_client": "true", "staff_present": "true", "decision": "approve"}


def test_a_file_field_refuses_types_and_sizes_outside_its_description_alike(api, web) -> None:
    cid, task_id = _counter_case(api)
    counter = api("counter1")
    c = fields(counter.get(f"/tasks/{task_id}").get_json()["form"])["scanned_form"]["constraints"]
    oversize = PDF + b"0" * (c["max_size"] + 1 - len(PDF))
    web.login("counter1")
    for filename, content, english in (
            ("form.exe", PDF, "file type not allowed (allowed: .jpeg, .jpg, .pdf, .png)"),
            ("form.pdf", oversize, f"file larger than {c['max_size'] // 1024} KB")):
        assert ("." + filename.rsplit(".", 1)[1]) not in c["accept"] or len(content) > c["max_size"]
        page = web.post(f"/tasks/{task_id}", {**COUNTER, "scanned_form": (io.BytesIO(content), filename)},
                        content_type="multipart/form-data")
        assert page.status_code == 422
        upload = {"filename": filename, "content_type": "application/octet-stream",
                  "content_base64": base64.b64encode(content).decode()}
        in_language, in_english = refusals(counter, f"/tasks/{task_id}/complete", {**COUNTER, "scanned_form": upload},
                                           page_language(page.get_data(as_text=True)))
        assert in_english == {"scanned_form": english}
        assert page_errors(page.get_data(as_text=True)) == in_language
    # approving requires the file and the account number (requiredWhen), both doors alike
    page = web.post(f"/tasks/{task_id}", {**COUNTER, "account_no": ""})
    in_language, in_english = refusals(counter, f"/tasks/{task_id}/complete", {**COUNTER, "account_no": ""},
                                       page_language(page.get_data(as_text=True)))
    assert in_english == {"account_no": "this field is required here", "scanned_form": "this field is required here"}
    assert page_errors(page.get_data(as_text=True)) == in_language
    # within the description: taken
    scan = {"filename": "form.PDF", "content_type": "application/pdf", "content_base64": base64.b64encode(PDF).decode()}
    assert counter.post(f"/tasks/{task_id}/complete", {**COUNTER, "scanned_form": scan}).status_code == 200
    _cid, other = _counter_case(api)
    assert web.post(f"/tasks/{other}", {**COUNTER, "scanned_form": (io.BytesIO(PDF), "scan.pdf")},
                    content_type="multipart/form-data").status_code == 302
    assert cid


# --- the task's context ------------------------------------------------------------------


def test_a_task_names_its_case_summary_holder_groups_and_dates(api) -> None:
    id_no = unique_id_number()
    cid, task_id = _counter_case_for(api, id_no)
    counter = api("counter1")
    assert counter.post(f"/tasks/{task_id}/claim").status_code == 200
    ctx = counter.get(f"/tasks/{task_id}").get_json()["context"]
    assert ctx["case_id"] == cid and ctx["case_title"] == "测试客户" and ctx["process_key"] == PROCESS
    assert ctx["started_by"] == {"username": "staff02", "name": user("staff02").full_name}
    assert ctx["claimed_by"] == {"username": "counter1", "name": user("counter1").full_name}
    assert ctx["assigned_to"] is None and ctx["may_act"] is True
    assert {g["role"] for g in ctx["candidate_groups"]} == {"counter", "support"}
    assert ctx["due_at"] and ctx["created_at"]
    summary = {s["id"]: s["value"] for s in ctx["summary"]}
    assert list(summary) == ["client_name", "client_id_number", "client_phone", "estimated_assets", "outlet"]
    # the step reveals the ID number to the one who acts on it; the phone stays masked
    assert summary["client_id_number"] == id_no and "*" in summary["client_phone"]
    # another counter clerk sees the claimed task, masked, and may not act
    other = api("counter2").get(f"/tasks/{task_id}").get_json()["context"]
    assert other["may_act"] is False and "*" in {s["id"]: s["value"] for s in other["summary"]}["client_id_number"]


def _counter_case_for(api, id_no: str) -> tuple[int, int]:
    cid = api("staff02").post(f"/processes/{PROCESS}/instances", registration(id_no)).get_json()["id"]
    api("support1").complete_step(cid, "Task_ConfirmReservation", {"decision": "approve"})
    return cid, _task_id(api, cid, "counter1", "Task_CounterOpening")


# --- JSON Schema ---------------------------------------------------------------------------


def _typed(data: dict[str, str]) -> dict[str, Any]:
    return {**data, "estimated_assets": float(data["estimated_assets"]), "accompany": data["accompany"] == "true",
            "institutional": data["institutional"] == "true"}


def test_forms_as_json_schema_agree_with_the_description(api) -> None:
    staff = api("staff06")
    schema = staff.get(f"/processes/{PROCESS}/form-schema").get_json()
    Draft202012Validator.check_schema(schema)
    check = Draft202012Validator(schema)
    good = _typed(registration(unique_id_number()))
    assert list(check.iter_errors(good)) == []
    assert list(check.iter_errors({**good, "client_name": "名" * 51}))
    assert list(check.iter_errors({**good, "client_id_number": "AB-12!"}))
    assert list(check.iter_errors({k: v for k, v in good.items() if k != "outlet"}))
    assert staff.get("/processes/no_such_process/form-schema").status_code == 404
    cid = staff.post(f"/processes/{PROCESS}/instances", registration(unique_id_number())).get_json()["id"]
    support = api("support1")
    task_id = support.open_task(cid, "Task_ConfirmReservation")["id"]
    confirm = Draft202012Validator(support.get(f"/tasks/{task_id}/form-schema").get_json())
    assert list(confirm.iter_errors({"decision": "approve"})) == []
    assert list(confirm.iter_errors({"decision": "send_back"}))  # requiredWhen: the comment
    assert list(confirm.iter_errors({"decision": "send_back", "comment": "请补充"})) == []
    assert list(confirm.iter_errors({"decision": "maybe"}))
    assert api("support2").get(f"/tasks/{task_id}/form-schema").status_code == 403
    support.complete_step(cid, "Task_ConfirmReservation", {"decision": "approve"})
    counter = api("counter1")
    scan_schema = counter.get(f"/tasks/{counter.open_task(cid, 'Task_CounterOpening')['id']}/form-schema").get_json()
    files = Draft202012Validator(scan_schema["properties"]["scanned_form"])
    assert list(files.iter_errors({"filename": "a.PDF", "content_base64": "JVBERi0="})) == []
    assert list(files.iter_errors({"filename": "a.exe", "content_base64": "TVo="}))
    assert scan_schema["properties"]["scanned_form"]["x-maxSize"] == DEFAULT_MAX_UPLOAD


def test_a_process_is_described_also_to_those_who_may_not_start_it(api) -> None:
    """Like the list: the form, and ``can_start`` saying whether this caller may use it."""
    proc = api("auditor").get(f"/processes/{PROCESS}").get_json()
    assert proc["can_start"] is commands.may_start(user("auditor"), definitions.built_for(
        definitions.latest(PROCESS)))


def test_the_pages_form_carries_the_limits_the_api_describes(api, web) -> None:
    """The page's maxlength and accept attributes come from the same constraints."""
    described = fields(api("staff07").get(f"/processes/{PROCESS}").get_json()["start_form"])
    web.login("staff07")
    page = html.fromstring(web.client.get(f"/processes/{PROCESS}/start").get_data(as_text=True))
    for field_id in ("client_name", "client_id_number", "outlet"):
        [box] = page.xpath(f'//*[@id="f-{field_id}"]')
        assert int(box.get("maxlength")) == described[field_id]["constraints"]["max_length"]
    web.logout()
    _cid, task_id = _counter_case(api)
    form = fields(api("counter1").get(f"/tasks/{task_id}").get_json()["form"])
    web.login("counter1")
    page = html.fromstring(web.client.get(f"/tasks/{task_id}").get_data(as_text=True))
    [upload] = page.xpath('//*[@id="f-scanned_form"]')
    assert upload.get("accept").split(",") == form["scanned_form"]["constraints"]["accept"]
    [comment] = page.xpath('//*[@id="f-comment"]')
    assert int(comment.get("maxlength")) == form["comment"]["constraints"]["max_length"] == 4000
