"""DMN decisions at scale: evaluating a decision table 10,000 times, and the what-if replay of a
changed table over 10,000 past decisions.

Run:  .venv/bin/python bench/replay.py [--decisions 10000] [--real 50]

It builds a fresh SQLite database in a temporary folder (or uses DATABASE_URL: an empty database),
deploys a process whose business rule task runs tests/bpmn/suitability_test.dmn, and starts
``--real`` cases with the real engine (each decision recorded as every case records it). The rest
of the past decisions are recorded through the platform's audit path (``audit.record`` with the
``changes`` a real decision writes, ``decision_log.changes``), each on a case of its own: a
closed case's row is copied, the decision is taken by SpiffWorkflow's DMN engine on varied
values. Then it times:

- ``evaluate``: the table decided 10,000 times through SpiffWorkflow's DMNEngine (the replay's path);
- ``replay``: ``replay.replay`` of the table with the age limit lowered, over every past decision
  (read in batches from the database, re-evaluated, compared), and prints its counts.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_AUDIT_KEY = "bench:bench-audit-key-not-secret"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=10_000)
    parser.add_argument("--real", type=int, default=50, help="cases started with the real engine")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(tmp) / 'replay.db'}"
        run(url, args.decisions, args.real, Path(tmp))


def run(url: str, total: int, real: int, tmp: Path) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from tests.dmn_helpers import Variant, lower_age_limit
    from webapp import create_app
    from workflows.branch.demo import seed_demo
    from workflows.branch.models import User
    from workflows.cases import audit, decision_log, replay
    from workflows.cases import commands as cases
    from workflows.cases.models import AuditEvent, ProcessInstance
    from workflows.db import db
    from workflows.engine import dmn

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "AUDIT_KEY": BENCH_AUDIT_KEY,
                      "AUDIT_CHECKPOINT_DIR": str(tmp / "checkpoints")})
    rng = random.Random(11)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_demo(with_cases=False)
        variant = Variant("bench_suitability")
        definition = variant.deploy().definition
        advisor = db.session.scalars(select(User).where(User.username == "advisor1")).one()

        started = time.perf_counter()
        for _ in range(real):
            cases.start_case(variant.process, advisor, {"age": str(rng.randint(18, 90)),
                                                        "risk": str(rng.randint(1, 5))})
        real_seconds = time.perf_counter() - started
        model = db.session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == variant.process,
                                                                 ProcessInstance.status == "completed")).first()
        assert model is not None, "no real case completed"

        loaded = dmn.load(variant.table(), variant.key)
        workflow = dmn.workflow_for()
        started = time.perf_counter()
        for i in range(total - real):
            values = {"age": rng.randint(18, 90), "risk": rng.randint(1, 5)}
            rules, outputs = dmn.decide(loaded, dict(values), workflow)
            instance = ProcessInstance(definition_id=definition.id, process_key=model.process_key,
                                       title=f"{model.title} #{i}", status="completed", outcome=model.outcome,
                                       state=model.state, started_by_id=advisor.id)
            db.session.add(instance)
            db.session.flush()
            noted = {"task": "Rule_Suitability", "table": loaded.name, "decision": loaded.decision_id,
                     "document": variant.key, "inputs": values, "outputs": outputs,
                     "rules": [{"id": r.id, "row": r.row_number, "description": r.description} for r in rules]}
            audit.record(instance, "decision", None, task_spec="Rule_Suitability", task_name=loaded.name,
                         changes=decision_log.changes(noted, definition.decisions), via="bench")
            if i % 1000 == 999:
                db.session.commit()
        db.session.commit()
        build_seconds = time.perf_counter() - started
        recorded = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.type == "decision"))
        print(f"database      {url.split('://')[0]}; {recorded} past decisions ({real} from real cases in "
              f"{real_seconds:.1f} s, the rest recorded in {build_seconds:.1f} s)")

        values = [{"age": rng.randint(18, 90), "risk": rng.randint(1, 5)} for _ in range(total)]
        started = time.perf_counter()
        for v in values:
            dmn.decide(loaded, dict(v), workflow)
        evaluate = time.perf_counter() - started
        print(f"evaluate      {total} decisions in {evaluate:.2f} s ({evaluate / total * 1e6:.0f} µs each)")

        started = time.perf_counter()
        report = replay.replay(variant.key, variant.table(lower_age_limit()))
        seconds = time.perf_counter() - started
        print(f"replay        {report.total} past decisions in {seconds:.2f} s: {report.unchanged} unchanged, "
              f"{report.changed} changed, {report.not_replayable} not replayable")
        for output, old, new, count in report.change_rows():
            print(f"              {count:6d}  {output}: {old} → {new}")


if __name__ == "__main__":
    main()
