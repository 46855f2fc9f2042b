"""The functions the high-risk-sale diagram calls (registered on the family's table)."""

from __future__ import annotations

from typing import Any

from workflows.cases.alerts import Alert, AlertSource
from workflows.cases.context import CaseContext
from workflows.engine import clock
from workflows.engine.decide import DecisionError, evaluate
from workflows.errors import Msg
from workflows.processes.sale import functions, register, suitability
from workflows.processes.sale.models import WealthProduct

SUMMARY_FIELDS = ("product", "amount", "purpose", "horizon_months")


def sale_date(case: CaseContext) -> Any:
    """The sale date: the branch's calendar day the case was started."""
    return clock.local(case.instance.started_at).date()


@functions.register
def sale_facts(case: CaseContext) -> dict[str, Any]:
    """The suitability table's inputs from the customer and product records on the sale date (age, assessment
    valid and level, product rating, guardian verified), with the product's term and whether the money's
    horizon is shorter. Refuses the start (field errors) for an unknown or inactive customer or product."""
    instance, data = case.instance, case.data()
    facts = suitability.facts_for(data, sale_date(case))
    customer, product = facts.customer, facts.product
    instance.title = f"{register.masked_name(customer.name)} · {product.code}"[:300]
    summary = dict(instance.summary or {})
    summary.update({"product": product.code, "customer_name": register.masked_name(customer.name)})
    instance.summary = summary
    inputs = dict(facts.inputs)
    case.note("sale_facts", {"sale_date": [None, facts.sale_date.isoformat()],
                             **{key: [None, value] for key, value in inputs.items()},
                             "term_months": [None, product.term_months],
                             "_customer_record": [None, customer.id], "_product_record": [None, product.id]})
    return {**inputs, "term_months": product.term_months, "short_horizon": facts.short_horizon,
            "customer_record": customer.id, "product_record": product.id}


def suitable_codes(case: CaseContext, inputs: dict[str, Any], products: list[WealthProduct]) -> list[str]:
    """The codes of the products the same table does not refuse for this customer and sale (all other
    inputs unchanged), evaluated with the table version the case's process version pins."""
    from workflows.cases.definitions import built_for  # the platform's registry imports the families first

    built = built_for(case.instance.definition)
    found = []
    for product in products:
        try:
            decided = evaluate(built, suitability.RULE_TASK, {**inputs, "product_rating": int(product.risk_rating)})
        except DecisionError:
            continue
        if decided.outputs.get("outcome") not in (None, "refused"):
            found.append(product.code)
    return found


@functions.register
def sale_assessed(case: CaseContext) -> str:
    """Note the table's outcome and reason in the history, and return the active products the customer may
    buy under the same table (comma-separated codes; offered to the advisor with a refusal)."""
    data = case.data()
    inputs = {key: data.get(key) for key in suitability.INPUTS}
    codes = suitable_codes(case, inputs, suitability.active_products())
    text = ", ".join(codes)
    case.note("sale_assessed", {"reason": [None, data.get("reason")],
                                "suitable_products": [None, text]})
    return text


@functions.register
def record_sale(case: CaseContext, status: str) -> int:
    """Enter the finished sale in the sale register (completed, refused or declined by the witness), in the
    case's last transaction. A witnessed or declared sale needs a valid double-recording reference."""
    return register.write(case, status)


def products_info(source: AlertSource) -> list[Alert]:
    """The start form's list of active products (code, name, rating, term): the advisor types one code."""
    return [Alert("sale_product", Msg("%(product)s %(name)s: R%(rating)s, %(term)s months", product=p.code, name=p.name,
                                      rating=p.risk_rating, term=p.term_months))
            for p in suitability.active_products()]
