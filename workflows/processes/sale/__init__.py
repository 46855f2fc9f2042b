"""High-risk sale witnessing (Process D, 见证销售): customers and products, advisors' qualifications, the
suitability decision (``bpmn/suitability.dmn``), the witness step and the sale register."""

from workflows.cases.functions import FunctionTable
from workflows.processes.family import Family
from workflows.processes.sale import models  # noqa: F401 - the family's tables

SALE_PROCESS = "high_risk_sale"

functions = FunctionTable("sale")

FAMILY = Family(
    key="sale",
    process_keys=frozenset({SALE_PROCESS}),
    functions=functions,
)
