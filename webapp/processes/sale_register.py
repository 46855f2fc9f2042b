"""The sale register: every finished high-risk-sale case, for the retail head, the GM and auditors (advisors
see their own): filters, paging, a record's page linking to its case, and CSV export (masked)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from workflows.errors import Invalid
from workflows.processes.sale import register_list
from workflows.processes.sale.register import STATUSES, masked_name

from ..i18n import tr, tr_fields
from ..template_helpers import amount, mask, when
from .page import NavEntry
from .sale import bp

NAV: tuple[NavEntry, ...] = (NavEntry("sale.register", _l("Sale register"), "sale-register",
                                      register_list.may_open_register),)

OUTCOME_LABELS = {"refused": _l("Refused"), "normal": _l("Normal sale"), "witness": _l("Witnessed sale"),
                  "declaration_witness": _l("Special declaration and witness")}
STATUS_LABELS = {"completed": _l("Completed"), "refused": _l("Refused"), "declined": _l("Declined by the witness")}
PURPOSE_LABELS = {"general": _l("General money"), "pension": _l("Pension"), "retirement": _l("Retirement money"),
                  "education": _l("Education fund")}
REASON_LABELS = {
    "no_valid_assessment": _l("No valid (unexpired) risk assessment"),
    "purpose_bound_high_risk": _l("Purpose-bound money (pension, retirement, education) may not go into R4–R5"),
    "elderly_high_risk": _l("A customer aged 65 or over may not buy R4–R5"),
    "elderly_r3_witness": _l("A customer aged 65 or over buying R3: witness required"),
    "elderly_above_assessment": _l("A customer aged 65 or over may not buy above their assessment"),
    "elderly_within_assessment": _l("A customer aged 65 or over, at or below their assessment"),
    "minor_without_guardian": _l("A minor needs the legal guardian present and verified"),
    "minor_above_assessment": _l("A minor may not buy above their assessment"),
    "minor_with_guardian": _l("A minor with the guardian present and verified"),
    "within_assessment": _l("At or below the customer's assessment"),
    "above_assessment_declared": _l("Above the assessment, the customer insists"),
    "above_assessment": _l("Above the assessment, the customer does not insist"),
    "no_matching_rule": _l("No row of the suitability table applies"),
}


def label(labels: dict[str, Any], key: str | None) -> str:
    return str(labels.get(key or "", key or ""))


def customer_text(row: Any) -> str:
    """The customer as the register shows them: name and ID number masked."""
    return f"{masked_name(row.customer.name)} {mask(row.customer.id_number, 'id')}"


@bp.route("/sales")
@login_required
def register():
    errors: dict[str, str] = {}
    status = 200
    try:
        f = register_list.parse_filter(request.args)
    except Invalid as exc:
        errors, status = tr_fields(exc), 422
        flash(tr(exc.message), "error")
        f = register_list.RegisterFilter()
    rows, total = register_list.register_page(current_user, f, request.remote_addr, request.path)
    return render_template("processes/sale/register.html", rows=rows, total=total, f=f, args=f.args(),
                           errors=errors, outcomes=register_list.OUTCOMES, statuses=STATUSES,
                           outcome_labels=OUTCOME_LABELS,
                           status_labels=STATUS_LABELS, reason_labels=REASON_LABELS, label=label,
                           customer_text=customer_text, reads_all=register_list.reads_all(current_user),
                           raw=request.args), status


@bp.route("/sales/<int:record_id>")
@login_required
def record(record_id: int):
    row = register_list.record_for(current_user, record_id, request.remote_addr)
    return render_template("processes/sale/register_record.html", row=row, label=label,
                           outcome_labels=OUTCOME_LABELS, status_labels=STATUS_LABELS, reason_labels=REASON_LABELS,
                           purpose_labels=PURPOSE_LABELS, customer_text=customer_text,
                           fired=register_list.fired_rule_text(row))


@bp.route("/sales/export.csv")
@login_required
def export():
    """The rows of the page's filters as CSV (UTF-8 with BOM, so Excel reads Chinese), customers masked."""
    f = register_list.parse_filter(request.args)
    rows = register_list.register_export(current_user, f, request.remote_addr, request.path)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Record"), _("Case"), _("Finished"), _("Started"), _("Customer"), _("Product"),
                     _("Risk rating"), _("Amount"), _("Purpose"), _("Horizon (months)"), _("Outcome"), _("Status"),
                     _("Reason"), _("Rule that fired"), _("Advisor"), _("Witness"), _("Witnessed at"),
                     _("Recording reference"), _("Term warning"), _("Declaration")])
    for r in rows:
        writer.writerow([r.id, r.instance_id, when(r.finished_at), when(r.started_at), _cell(customer_text(r)),
                         r.product.code, f"R{r.product.risk_rating}", amount(r.amount),
                         label(PURPOSE_LABELS, r.purpose), r.horizon_months or "", label(OUTCOME_LABELS, r.outcome),
                         label(STATUS_LABELS, r.status), label(REASON_LABELS, r.refusal_reason),
                         register_list.fired_rule_text(r), r.advisor.username,
                         r.witness.username if r.witness else "", when(r.witnessed_at) if r.witnessed_at else "",
                         r.recording_ref or "", _("yes") if r.term_warning else "",
                         _("yes") if r.declaration_text else ""])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="sale-register.csv"'})


def _cell(text: str | None) -> str:
    """A cell a spreadsheet will not run as a formula."""
    value = text or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
