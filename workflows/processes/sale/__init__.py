"""High-risk sale witnessing (Process D, 见证销售): customers and products, advisors' qualifications, the
suitability decision (``bpmn/suitability.dmn``), the witness step and the sale register."""

from workflows.cases.functions import FunctionTable
from workflows.errors import Msg
from workflows.processes.family import Family
from workflows.processes.sale import models  # noqa: F401 - the family's tables

SALE_PROCESS = "high_risk_sale"

functions = FunctionTable("sale")

# The sale process's parts; `diagram` registers its functions on the table above.
from workflows.processes.sale import (  # noqa: E402
    codes,
    demo,
    demo_records,
    diagram,
    qualifications,
    records_codes,
    register_list,
    suitability,
)


def demo_samples() -> None:
    """The demo's customers, products and qualifications, then sales in every state."""
    demo_records.records_samples()
    demo.sale_samples()


FAMILY = Family(
    key="sale",
    process_keys=frozenset({SALE_PROCESS}),
    functions=functions,
    labels={  # the sale process's events and facts
        "sale_facts": Msg("Suitability inputs computed"), "sale_assessed": Msg("Suitability decided"),
        "sale_registered": Msg("Entered in the sale register"), "sale_date": Msg("Sale date"), "age": Msg("Age"),
        "assessment_valid": Msg("Assessment valid"), "assessment_level": Msg("Assessment level"),
        "product_rating": Msg("Product risk rating"), "guardian_verified": Msg("Guardian present and verified"),
        "sale_record": Msg("Sale register entry"), "sale_status": Msg("Register status"),
    },
    warnings={"sale_products": diagram.products_info},
    # an unqualified advisor is refused before anything about the customer is looked at
    start_checks=(qualifications.requires_qualification(SALE_PROCESS), suitability.start_check),
    demo=demo_samples,
    case_readers=register_list.reads_all,  # the retail head and the GM open every sale the register lists
    error_codes={**codes.ERROR_CODES, **records_codes.ERROR_CODES},
    field_codes={**codes.FIELD_CODES, **records_codes.FIELD_CODES},
)
