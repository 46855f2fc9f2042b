"""An integration's view of /api/v1: run one whole client-ownership case through the API.

It knows nothing of the server but its OpenAPI document: every call is made by the
operation's ``operationId`` (path and method read from the document), with ``requests``
only. Each person acts with their own token (issued on their profile page, or with
``flask --app wsgi tokens issue USER``), as the counter system would for its users.

    python tools/api_client_example.py --base http://127.0.0.1:5000 \\
        --token staff01=brk_… --token support1=brk_… --token counter1=brk_… \\
        --token trading=brk_… --token finance=brk_… --token gm=brk_…

It prints every call it needed, then the case's outcome. The batch step (the support
staff's "aggregate and submit") goes through the bulk operation, as a back office would
submit a day's batch; every write carries an Idempotency-Key, so a retry after a timeout
cannot act twice.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import random
import sys
import uuid
from typing import Any

import requests

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
WRITES = {"startInstance", "completeTask", "bulkCompleteTasks"}


class Client:
    """Calls operations of the OpenAPI document by their operationId, as one user."""

    def __init__(self, base: str, document: dict[str, Any], token: str, name: str, log: list[str]) -> None:
        self.base, self.token, self.name, self.log = base.rstrip("/"), token, name, log
        self.operations = {op["operationId"]: (method.upper(), path)
                           for path, item in document["paths"].items()
                           for method, op in item.items() if isinstance(op, dict) and "operationId" in op}

    def call(self, operation: str, body: Any = None, params: dict[str, Any] | None = None,
             **path: Any) -> requests.Response:
        method, template = self.operations[operation]
        url = self.base + template.format(**path)
        headers = {"Authorization": f"Bearer {self.token}", "Accept-Language": "en"}
        if operation in WRITES:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        resp = requests.request(method, url, json=body, params=params, headers=headers, timeout=30)
        self.log.append(f"{self.name:>9}  {operation:<20} {method:<5} {resp.request.path_url:<60} → "
                        f"{resp.status_code}")
        if resp.status_code >= 400:
            problem = resp.json()
            raise SystemExit(f"{operation} answered {resp.status_code} {problem.get('error')}: "
                             f"{problem.get('message')} {problem.get('fields') or ''}")
        return resp


def find_task(person: Client, case_id: int, task_key: str) -> dict[str, Any]:
    """The case's open step ``task_key`` among the tasks this person may work."""
    for view in ("mine", "groups"):
        page = person.call("listTasks", params={"view": view, "per_page": 200}).json()
        for item in page["items"]:
            if item["instance_id"] == case_id and item["task_key"] == task_key:
                return item
    raise SystemExit(f"{person.name} has no open {task_key} of case {case_id}")


def answers(task: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """Fill the form from what the task says it needs: the values given for its fields,
    'approve' for a decision, and nothing the form does not ask for."""
    out: dict[str, Any] = {}
    for field in task["form"]:
        if field["id"] in wanted:
            out[field["id"]] = wanted[field["id"]]
        elif field["id"] == "decision" and any(o["id"] == "approve" for o in field["options"]):
            out["decision"] = "approve"
    return out


def run(base: str, tokens: dict[str, str]) -> list[str]:
    log: list[str] = []
    document = requests.get(f"{base.rstrip('/')}/api/v1/openapi.json", timeout=30).json()
    log.append(f"{'':>9}  (OpenAPI document {document['info']['version']}, "
               f"{sum(len(v) for v in document['paths'].values())} operations)")
    people = {name: Client(base, document, token, name, log) for name, token in tokens.items()}
    staff = people["staff01"]

    ownership = staff.call("getProcess", key="client_ownership").json()
    id_number = "11010519" + f"{random.randrange(10**9, 10**10)}"
    registration = {"client_name": "示例客户", "client_id_number": id_number, "client_phone": "13800000000",
                    "estimated_assets": "300000", "planned_open_date": (dt.date.today() + dt.timedelta(days=2))
                    .isoformat(), "outlet": "工商银行一11网点", "accompany": True, "institutional": False}
    start = {"data": {f["id"]: registration[f["id"]] for f in ownership["start_form"] if f["id"] in registration},
             "confirm_warnings": True}
    case = staff.call("startInstance", start, key="client_ownership").json()
    case_id = case["id"]

    scan = {"filename": "form.pdf", "content_type": "application/pdf",
            "content_base64": base64.b64encode(PDF).decode()}
    steps = [("support1", "Task_ConfirmReservation", {}),
             ("counter1", "Task_CounterOpening", {"account_no": "880012345679", "signed_by_client": True,
                                                  "staff_present": True, "scanned_form": scan}),
             ("support1", "Task_Aggregate", {"batch_ref": f"B{dt.date.today():%Y%m%d}"}),
             ("trading", "Task_TradingReview", {}), ("finance", "Task_FinanceReview", {}),
             ("gm", "Task_GMReview", {}),
             ("trading", "Task_Register", {"effective_date": dt.date.today().isoformat(),
                                           "archive_ref": f"ARCH-{case_id}"})]
    for name, key, wanted in steps:
        person = people[name]
        listed = find_task(person, case_id, key)
        task = person.call("getTask", task_id=listed["id"]).json()
        data = answers(task, wanted)
        if task.get("bulk") and key == "Task_Aggregate":  # the day's batch, submitted at once
            result = person.call("bulkCompleteTasks", {"task_ids": [task["id"]], "data": data}).json()
            refused = [r for r in result["results"] if r["status"] != "completed"]
            if refused:
                raise SystemExit(f"batch refused: {refused}")
        else:
            person.call("completeTask", {"data": data}, task_id=task["id"])

    final = staff.call("getInstance", instance_id=case_id).json()
    history = staff.call("getInstanceHistory", instance_id=case_id).json()["items"]
    log.append(f"case {case_id}: {final['status']}, outcome {final['outcome']}, {len(history)} history events")
    return log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--token", action="append", default=[], metavar="USER=TOKEN",
                        help="a token per person: staff01, support1, counter1, trading, finance, gm")
    args = parser.parse_args(argv)
    tokens = dict(item.split("=", 1) for item in args.token)
    missing = {"staff01", "support1", "counter1", "trading", "finance", "gm"} - set(tokens)
    if missing:
        parser.error(f"tokens missing for: {', '.join(sorted(missing))}")
    log = run(args.base, tokens)
    print("\n".join(log))
    print(f"{len([line for line in log if '→' in line])} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
