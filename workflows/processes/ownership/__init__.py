"""Client ownership (Process A, 第三十一条): the registry and its rules."""

from workflows.errors import Msg
from workflows.processes.family import Family
from workflows.processes.ownership import demo, integrity, rules
from workflows.processes.ownership.functions import functions

FAMILY = Family(
    key="ownership",
    process_keys=frozenset({rules.PROCESS_KEY}),
    functions=functions,
    labels={
        # events and violation kinds its diagram records
        "ownership_registered": Msg("Ownership registered"),
        "form_not_signed_by_client": Msg("Form not signed by the client"),
        "staff_absent_without_notice": Msg("Staff absent without notice"),
        "fake_opening": Msg("Fake opening"),
        # facts in its history
        "owner": Msg("Owner"), "registry_entry": Msg("Registry entry"), "to_user_id": Msg("To"),
    },
    warnings={"ownership_conflict": rules.conflict_alerts},
    demo=demo.sample_cases,
    verify_records=integrity.check_registry,
    verify_rows=integrity.registry_rows,
)
