"""Finding cases: every case the caller may see, with exact filters, sorted, paged."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for

from workflows.cases import search

from . import inputs, listing, shapes
from .auth import api_user, token_required
from .blueprint import QUERY_PARAMS, bp
from .schema import SECURED, errors, json_response, ref

STATUSES = ("running", "completed")
QUERY_PARAMS["api.instance_list"] = {"process", "status", "outcome", "started_by", "subject", "business_key",
                                     "started_from", "started_to", "ended_from", "ended_to", "sort", "page",
                                     "per_page", "after"}


@bp.get("/instances")
@token_required
def instance_list():
    q = search.CaseQuery(
        process=listing.text_arg("process", 80), status=listing.choice_arg("status", STATUSES),
        outcome=listing.text_arg("outcome", 40), started_by=listing.text_arg("started_by", 60),
        subject=listing.text_arg("subject", 60), business_key=listing.text_arg("business_key", 120),
        started_from=listing.date_arg("started_from"), started_to=listing.date_arg("started_to"),
        ended_from=listing.date_arg("ended_from"), ended_to=listing.date_arg("ended_to"),
        sort=listing.choice_arg("sort", search.SORTS, "-started_at") or "-started_at",
        page=inputs.int_arg("page", 1, 1, 100_000), per_page=inputs.int_arg("per_page", 50, 1, inputs.MAX_PER_PAGE),
        after=listing.text_arg("after", 400))
    found = search.list_cases(api_user(), q, request.remote_addr)
    items = [shapes.summary(s) for s in search.summaries(found.rows, api_user())]
    return jsonify({"items": items, "total": found.total, "page": None if q.after else q.page,
                    "per_page": q.per_page, "next": _next_link(found.next)})


def _next_link(after: str | None) -> str | None:
    """The same request from just after the last case of this page (keyset: no page number)."""
    if after is None:
        return None
    args: dict[str, Any] = request.args.to_dict()
    args.pop("page", None)
    args["after"] = after
    return url_for(request.endpoint or "", **args)


def _text(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": {"type": "string"}}


def _page_schema() -> dict[str, Any]:
    """A page of cases: ``next`` carries a cursor (``after``), so every page costs the same."""
    schema = listing.page_schema("Instance")
    props = dict(schema["properties"])
    props["total"] = {"type": "integer", "nullable": True,
                      "description": "how many match, on all pages: counted for a first (or numbered) page, null "
                                     "on the pages `next` leads to, and null for someone (not an auditor) who took "
                                     "part in more than 2,000 tasks and cases: follow `next` to the end instead"}
    props["page"] = {"type": "integer", "nullable": True, "description": "the page number asked for; null when "
                                                                         "following a cursor"}
    props["next"] = {**props["next"], "description": "the same request from just after the last case of this "
                                                    "page (an `after` cursor); null on the last"}
    return {**schema, "properties": props}


SCHEMAS: dict[str, Any] = {"InstancePage": _page_schema()}

PATHS: dict[str, Any] = {
    "/api/v1/instances": {"get": {"operationId": "listInstances",
        "summary": "Find cases: the ones you may see, filtered, sorted, paged", "security": SECURED,
        "description": "Visibility as on the pages: the cases you started, that concern you, or where you have "
                       "or had a task (assigned, claimed, completed, escalated to you, or open to one of your "
                       "groups and you are not excluded from it); auditors see every case. The administrator "
                       "role gives no access to cases (403). Dates are days of the branch's calendar "
                       "(Asia/Shanghai), both ends included. Follow `next` until it is null: it pages by cursor "
                       "(`after`), never skipping or repeating a case.",
        "parameters": [
            _text("process", "process key"),
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(STATUSES)}},
            _text("outcome", "the end event the case reached, e.g. End_Registered"),
            _text("started_by", "username of the person who started the case"),
            _text("subject", "username of the person the case concerns"),
            _text("business_key", "the client's ID number, whole: matched after removing spaces and upper-casing; "
                                  "a part of a number finds nothing"),
            listing.date_param("started_from", "started on or after this day"),
            listing.date_param("started_to", "started on or before this day"),
            listing.date_param("ended_from", "ended on or after this day"),
            listing.date_param("ended_to", "ended on or before this day"),
            {"name": "sort", "in": "query", "description": "default -started_at (newest first); cases not ended "
                                                          "come last when sorting by ended_at",
             "schema": {"type": "string", "enum": list(search.SORTS)}},
            *listing.PAGE_PARAMS,
            {"name": "after", "in": "query", "description": "the opaque cursor of a `next` link: the page starting "
                                                           "just after the case it names (the same sort; `page` is "
                                                           "then ignored). Keyset paging: deep pages cost what the "
                                                           "first does", "schema": {"type": "string"}}],
        "responses": {"200": json_response(ref("InstancePage"), "A page of cases"),
                      **errors("401", "403", "422", "429")}}},
}
