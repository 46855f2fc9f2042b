"""The test family's month-end job: one review request, started by the system."""

from __future__ import annotations

import threading

from tests.family_demo import rules
from workflows.cases.jobs import JobContext

runs: list[str] = []  # periods this process fired (the test reads it)
gate: threading.Event | None = None  # set by a test: the job waits here, holding its transaction open
entered = threading.Event()  # set when the job starts its work


def month_end(ctx: JobContext) -> int:
    runs.append(ctx.period)
    entered.set()
    if gate is not None:
        gate.wait(30)
    ctx.start(rules.PROCESS_KEY, {"amount": "0", "purpose": f"month-end review {ctx.period}"})
    return 1
