"""Customers, products and advisors' qualifications for wealth sales: lists (ID and phone numbers
masked), a customer's record with its assessment, guardian, documents and history, the forms, the
guardian's document, and the CSV import (a bad file refused whole, each error's line and column)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from workflows.cases import access as case_access
from workflows.cases.forms import Upload
from workflows.engine import clock
from workflows.errors import Conflict, Invalid, Msg
from workflows.processes.sale import customers, imports, products, qualifications, records_access, records_history

from ..i18n import tr, tr_fields
from . import sale_records_present as present
from .page import NavEntry
from .sale import bp

NAV: tuple[NavEntry, ...] = (NavEntry("sale.customers", _l("Wealth customers"), "sale-records",
                                      records_access.may_read),)
PER_PAGE = 50
CUSTOMER_FORM = customers.FIELDS
PRODUCT_FORM = products.FIELDS


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    return max(1, min(int(raw), 100_000)) if raw.isdigit() else 1


def _common() -> dict[str, Any]:
    return {"may_keep": records_access.may_keep(current_user), "labels": present.FIELD_LABELS,
            "relations": present.RELATIONS, "assessment_labels": present.ASSESSMENT}


def _form(keys: tuple[str, ...]) -> dict[str, Any]:
    """The posted fields of a record form; an unticked box is a "no"."""
    values = {k: request.form.get(k, "") for k in keys if k != "active"}
    values["active"] = "true" if request.form.get("active") else "false"
    return values


# --- customers -----------------------------------------------------------------------------------------


@bp.route("/sale/customers", endpoint="customers")
@login_required
def customers_list():
    query = (request.args.get("q") or "")[:100]
    found = customers.search(current_user, query, _page_arg(), PER_PAGE, ip=request.remote_addr, path=request.path)
    return render_template("processes/sale/records/customers.html", rows=found.rows, total=found.total,
                           page=_page_arg(), per_page=PER_PAGE, q=query, status=customers.assessment_status,
                           verified=customers.guardian_verified, **_common())


@bp.route("/sale/customers/export.csv")
@login_required
def customers_export():
    """The list as CSV, masked like the page (UTF-8 with BOM, so Excel reads Chinese); the export is logged."""
    query = (request.args.get("q") or "")[:100]
    found = customers.search(current_user, query, 1, 100_000, ip=request.remote_addr, path=request.path)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Name"), _("ID-document number"), _("Date of birth"), _("Phone"), _("Risk level"),
                     _("Assessed on"), _("Assessment expires on"), _("Assessment"), _("Guardian"), _("Active")])
    for c in found.rows:
        writer.writerow([present.cell(c.name), present.shown("id_number", c.id_number, False), c.birth_date,
                         present.shown("phone", c.phone, False) or "", present.level(c.risk_level, "C"),
                         c.assessed_on or "", c.assessment_expires_on or "",
                         str(present.ASSESSMENT[customers.assessment_status(c)]), present.cell(c.guardian_name),
                         _("yes") if c.active else _("no")])
    case_access.log_event("export", user=current_user, ip=request.remote_addr,
                          detail=f"wealth customers: {len(found.rows)} row(s), masked: q={'given' if query else '*'}")
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="wealth-customers.csv"'})


@bp.route("/sale/customers/new", methods=["GET", "POST"])
@login_required
def customer_new():
    records_access.require_keep(current_user, request.path, request.remote_addr)
    if request.method == "POST":
        values = _form(CUSTOMER_FORM)
        try:
            customer = customers.create(current_user, values, via="web", ip=request.remote_addr, path=request.path)
        except Invalid as exc:
            flash(tr(exc.message), "error")
            return render_template("processes/sale/records/customer_form.html", customer=None, form=values,
                                   errors=tr_fields(exc), **_common()), 422
        flash(_("Customer %(name)s saved.", name=customer.name), "success")
        return redirect(url_for("sale.customer_page", customer_id=customer.id))
    return render_template("processes/sale/records/customer_form.html", customer=None, form={"active": "true"},
                           errors={}, **_common())


@bp.route("/sale/customers/<int:customer_id>")
@login_required
def customer_page(customer_id: int):
    whole = request.args.get("whole") == "1"
    customer = customers.read(current_user, customer_id, whole=whole, ip=request.remote_addr, path=request.path)
    rows = records_history.of("customer", customer.id)
    return render_template("processes/sale/records/customer.html", c=customer, whole=whole,
                           may_see_whole=records_access.may_see_whole(current_user),
                           status=customers.assessment_status(customer), verified=customers.guardian_verified(customer),
                           minor=customers.is_minor(customer.birth_date),
                           age=customers.age_on(customer.birth_date, clock.today()),
                           documents=customers.documents(customer.id),
                           history=present.history_rows(rows, records_history.people(rows), whole),
                           shown=present.shown, **_common())


@bp.route("/sale/customers/<int:customer_id>/edit", methods=["GET", "POST"])
@login_required
def customer_edit(customer_id: int):
    records_access.require_keep(current_user, request.path, request.remote_addr)
    if request.method == "POST":
        values = _form(CUSTOMER_FORM)
        try:
            customers.update(current_user, customer_id, values, via="web", ip=request.remote_addr, path=request.path)
        except Invalid as exc:
            flash(tr(exc.message), "error")
            return render_template("processes/sale/records/customer_form.html", customer=customers.get(customer_id),
                                   form=values, errors=tr_fields(exc), **_common()), 422
        flash(_("Customer saved."), "success")
        return redirect(url_for("sale.customer_page", customer_id=customer_id))
    customer = customers.read(current_user, customer_id, whole=True, ip=request.remote_addr, path=request.path)
    form = {k: ("" if v is None else present.level(v, "C") if k == "risk_level" else v)
            for k, v in customers.values_of(customer).items()}
    form["active"] = "true" if customer.active else ""
    return render_template("processes/sale/records/customer_form.html", customer=customer, form=form, errors={},
                           **_common())


@bp.route("/sale/customers/<int:customer_id>/guardian-document", methods=["POST"])
@login_required
def guardian_document(customer_id: int):
    sent = request.files.get("file")
    upload = Upload(sent.filename or "", sent.mimetype or "", sent.read()) if sent and sent.filename else None
    try:
        customers.verify_guardian(current_user, customer_id, upload, via="web", ip=request.remote_addr,
                                  path=request.path)
    except Invalid as exc:
        flash(tr(exc.message) + "".join(f" {m}" for m in tr_fields(exc).values()), "error")
    else:
        flash(_("The guardian's identity document is verified and its copy kept."), "success")
    return redirect(url_for("sale.customer_page", customer_id=customer_id))


@bp.route("/sale/customers/<int:customer_id>/documents/<int:document_id>")
@login_required
def customer_document(customer_id: int, document_id: int):
    doc = customers.document(current_user, customer_id, document_id, ip=request.remote_addr, path=request.path)
    return present.download(doc)


# --- products ------------------------------------------------------------------------------------------


@bp.route("/sale/products")
@login_required
def products_list():
    query = (request.args.get("q") or "")[:100]
    rows, total = products.listing(current_user, query, page=_page_arg(), per_page=PER_PAGE,
                                   ip=request.remote_addr, path=request.path)
    return render_template("processes/sale/records/products.html", rows=rows, total=total, page=_page_arg(),
                           per_page=PER_PAGE, q=query, **_common())


def _product_page(product: Any, form: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    rows = records_history.of("product", product.id) if product is not None else []
    return render_template("processes/sale/records/product_form.html", product=product, form=form, errors=errors,
                           history=present.history_rows(rows, records_history.people(rows), True),
                           **_common()), status


@bp.route("/sale/products/new", methods=["GET", "POST"])
@login_required
def product_new():
    records_access.require_keep(current_user, request.path, request.remote_addr)
    if request.method == "POST":
        values = _form(PRODUCT_FORM)
        try:
            product = products.create(current_user, values, via="web", ip=request.remote_addr, path=request.path)
        except Invalid as exc:
            flash(tr(exc.message), "error")
            return _product_page(None, values, tr_fields(exc), 422)
        flash(_("Product %(code)s saved.", code=product.code), "success")
        return redirect(url_for("sale.products_list"))
    return _product_page(None, {"active": "true"}, {})


@bp.route("/sale/products/<int:product_id>", methods=["GET", "POST"])
@login_required
def product_edit(product_id: int):
    product = products.read(current_user, product_id, ip=request.remote_addr, path=request.path)
    if request.method == "POST":
        values = _form(PRODUCT_FORM)
        try:
            products.update(current_user, product_id, values, via="web", ip=request.remote_addr, path=request.path)
        except Invalid as exc:
            flash(tr(exc.message), "error")
            return _product_page(product, values, tr_fields(exc), 422)
        flash(_("Product %(code)s saved.", code=product.code), "success")
        return redirect(url_for("sale.products_list"))
    form = {k: ("" if v is None else present.level(v, "R") if k == "risk_rating" else v)
            for k, v in products.values_of(product).items()}
    form["active"] = "true" if product.active else ""
    return _product_page(product, form, {})


# --- import ------------------------------------------------------------------------------------------


IMPORTS = {"customers": (imports.CUSTOMER_COLUMNS, imports.CUSTOMER_REQUIRED, imports.import_customers),
           "products": (imports.PRODUCT_COLUMNS, imports.PRODUCT_REQUIRED, imports.import_products)}


@bp.route("/sale/<any(customers, products):kind>/import", methods=["GET", "POST"])
@login_required
def import_page(kind: str):
    records_access.require_keep(current_user, request.path, request.remote_addr)
    columns, required, run = IMPORTS[kind]
    problems: list[Any] = []
    result = None
    status = 200
    if request.method == "POST":
        sent = request.files.get("file")
        try:
            if sent is None or not sent.filename:
                raise Invalid("please correct the highlighted fields",
                              {"file": Msg("a file is required", code="file_required")})
            result = run(current_user, sent.read(), via="web", ip=request.remote_addr, path=request.path)
        except imports.ImportRefused as exc:
            flash(tr(exc.message), "error")
            problems = [{"line": p.line, "column": p.column or "—", "field": present.FIELD_LABELS.get(p.field or "",
                         p.field or "—"), "message": tr(p.message)} for p in exc.problems]
            status = 422
        except Invalid as exc:
            flash(tr(exc.message) + "".join(f" {m}" for m in tr_fields(exc).values()), "error")
            status = 422
        else:
            flash(_("Imported %(rows)s line(s): %(created)s new, %(updated)s changed, %(unchanged)s unchanged.",
                    rows=result.rows, created=len(result.created), updated=len(result.updated),
                    unchanged=len(result.unchanged)), "success")
    return render_template("processes/sale/records/import.html", kind=kind, columns=columns, required=required,
                           problems=problems, result=result, **_common()), status


@bp.route("/sale/<any(customers, products):kind>/import/template.csv")
@login_required
def import_template(kind: str):
    records_access.require_keep(current_user, request.path, request.remote_addr)
    columns = IMPORTS[kind][0]
    return Response("\ufeff" + ",".join(columns) + "\r\n", mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{kind}-template.csv"'})


# --- qualifications ------------------------------------------------------------------------------------


def _qualifications_page(form: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    people = qualifications.advisors(current_user, ip=request.remote_addr, path=request.path)
    history = qualifications.history([r.id for p in people for r in p.rows])
    reasons = {qid: next((r.changes.get("reason", [None, None])[1] for r in rows if r.action == "revoked"), None)
               for qid, rows in history.items()}
    return render_template("processes/sale/records/qualifications.html", people=people, reasons=reasons,
                           state=qualifications.status, state_labels=present.QUALIFICATION, form=form,
                           errors=errors, **_common()), status


@bp.route("/sale/qualifications", methods=["GET", "POST"])
@login_required
def qualifications_page():
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in ("username", "certificate_no", "qualified_on", "expires_on")}
        try:
            row = qualifications.record(current_user, values, via="web", ip=request.remote_addr, path=request.path)
        except Invalid as exc:
            flash(tr(exc.message), "error")
            return _qualifications_page(values, tr_fields(exc), 422)
        flash(_("Qualification %(no)s recorded for %(name)s.", no=row.certificate_no, name=row.user.full_name),
              "success")
        return redirect(url_for("sale.qualifications_page"))
    return _qualifications_page({}, {})


@bp.route("/sale/qualifications/<int:qualification_id>/revoke", methods=["POST"])
@login_required
def qualification_revoke(qualification_id: int):
    try:
        qualifications.revoke(current_user, qualification_id, request.form.get("reason", ""), via="web",
                              ip=request.remote_addr, path=request.path)
    except (Invalid, Conflict) as exc:
        flash(tr(exc.message) + "".join(f" {m}" for m in tr_fields(exc).values()), "error")
    else:
        flash(_("The qualification was revoked."), "success")
    return redirect(url_for("sale.qualifications_page"))
