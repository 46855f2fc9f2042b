from tests.api.client import api  # noqa: F401 - the API client fixture
from tests.processes.leave.steps import branch_approver, calendar_days  # noqa: F401 - fixtures of the leave tests
