"""High-risk sale witnessing (Process D, 见证销售): customers and products, advisors' qualifications, the
suitability decision (``bpmn/suitability.dmn``), the witness step and the sale register."""

from workflows.cases.functions import FunctionTable
from workflows.processes.family import Family
from workflows.processes.sale import models  # noqa: F401 - the family's tables

SALE_PROCESS = "high_risk_sale"

functions = FunctionTable("sale")

from workflows.processes.sale import demo_records, qualifications, records_codes  # noqa: E402

FAMILY = Family(
    key="sale",
    process_keys=frozenset({SALE_PROCESS}),
    functions=functions,
    start_checks=(qualifications.requires_qualification(SALE_PROCESS),),
    demo=demo_records.records_samples,
    error_codes=records_codes.ERROR_CODES,
    field_codes=records_codes.FIELD_CODES,
)
