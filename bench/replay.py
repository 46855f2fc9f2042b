"""The sale family's suitability decision at scale: the table decided 10,000 times, and the what-if
replay of a changed table over 10,000 past sales.

Run:  .venv/bin/python bench/replay.py [--decisions 10000] [--real 50]
      DATABASE_URL=postgresql+psycopg://…/<empty database> .venv/bin/python bench/replay.py

It builds a fresh SQLite database in a temporary folder (or uses DATABASE_URL: an empty database), deploys
``bpmn/`` (so ``high_risk_sale`` pins ``bpmn/suitability.dmn``, decision ``suitability``, 7 inputs) and
seeds the demo branch with the demo's products and advisors' qualifications. Then:

- ``--real`` sales of new customers (ages, assessments, guardians as in ``bench/replay_sales.py``) are
  started by a qualified advisor through the engine and taken to their end (term warning, disclosure,
  declaration, witness or decline, double-recording reference); each records its decision event as the
  platform does (``decision_log``);
- the other past sales are recorded through the platform's audit path: a closed real sale's row with the
  same kind of end (refused or not) is copied, the table decides on realistic inputs through
  ``workflows.engine.dmn`` and the decision event is written by ``audit.record`` with the ``changes``
  a real decision writes (``decision_log.changes``).

It prints the times of:

- ``evaluate``: the deployed table decided on 10,000 realistic sales through ``workflows.engine.dmn`` (the
  replay's path), and through ``workflows.engine.decide.evaluate`` on the built process version (what a
  running sale calls once per active product for its suitable-products list); both must agree;
- ``replay``: ``replay.replay("suitability.dmn", …)`` over every past sale, first with the table unchanged
  (every decision must come out the same), then with the elderly witness row's age lowered from 65 to 60,
  with its counts per outcome change, checked against the rule's own condition (60–64, valid assessment,
  C3 or above, an R3 product: normal → witness).
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
DOCUMENT = "suitability.dmn"
WITNESS_AT_65 = '<inputEntry id="Rule_ElderlyWitness_age"><text>&gt;= 65</text>'
WITNESS_AT_60 = '<inputEntry id="Rule_ElderlyWitness_age"><text>&gt;= 60</text>'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=10_000, help="past sales, and decisions evaluated")
    parser.add_argument("--real", type=int, default=50, help="sales run through the real engine")
    args = parser.parse_args()
    if not 1 <= args.real <= args.decisions:
        parser.error("--real must be between 1 and --decisions")
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(tmp) / 'replay.db'}"
        run(url, args.decisions, args.real, Path(tmp))


class Timer:
    """Wall time, and this process's CPU time (the machine may be shared: other work stretches the wall
    time, not the CPU time; on PostgreSQL the server's CPU is not in it)."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def each(self, n: int) -> str:
        return f"{self.wall:.2f} s, CPU {self.cpu:.2f} s ({self.wall / n * 1e6:.0f} µs each)"


def moved_by_the_change(inputs: dict) -> bool:
    """Whether lowering the witness age to 60 changes this sale's outcome, read off the table by hand."""
    return (60 <= inputs["age"] <= 64 and inputs["assessment_valid"] and inputs["assessment_level"] >= 3
            and inputs["product_rating"] == 3)


def run(url: str, total: int, real: int, tmp: Path) -> None:
    from sqlalchemy import func, select

    from bench.replay_sales import real_sales, sale_inputs
    from webapp import create_app
    from webapp.migrations_cli import upgrade
    from workflows.branch.demo import seed_demo
    from workflows.cases import audit, decision_log, decisions, definitions, replay
    from workflows.cases.models import AuditEvent, ProcessInstance
    from workflows.db import db
    from workflows.engine import decide, dmn
    from workflows.processes.sale import SALE_PROCESS
    from workflows.processes.sale.suitability import RULE_TASK

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "AUDIT_KEY": BENCH_AUDIT_KEY,
                      "AUDIT_CHECKPOINT_DIR": str(tmp / "checkpoints")})
    rng = random.Random(11)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        definitions.deploy_directory(ROOT / "bpmn")
        db.session.commit()
        seed_demo(with_cases=False)
        definition = definitions.latest(SALE_PROCESS)
        table = decisions.latest(DOCUMENT)
        assert definition is not None and table is not None
        assert [d.key for d in definition.decisions] == [DOCUMENT], "high_risk_sale must pin suitability.dmn"

        started = time.perf_counter()
        sales = real_sales(real, rng)
        real_seconds = time.perf_counter() - started
        templates = {"refused": [s for s in sales if s.outcome == "End_Refused"],
                     "other": [s for s in sales if s.outcome != "End_Refused"]}

        loaded = dmn.load(table.dmn_xml, DOCUMENT)
        workflow = dmn.workflow_for()
        table_name = getattr(loaded.table, "name", None) or loaded.table.id  # what the engine notes as "table"
        started = time.perf_counter()
        for i in range(total - real):
            values = sale_inputs(rng)
            rules, outputs = dmn.decide(loaded, dict(values), workflow)
            model = rng.choice(templates["refused" if outputs["outcome"] == "refused" else "other"] or sales)
            instance = ProcessInstance(definition_id=definition.id, process_key=model.process_key,
                                       title=f"{model.title} #{i}", summary=model.summary, status="completed",
                                       outcome=model.outcome, state=model.state, started_by_id=model.started_by_id,
                                       ended_at=model.ended_at)
            db.session.add(instance)
            db.session.flush()
            noted = {"task": RULE_TASK, "table": table_name, "decision": loaded.decision_id, "document": DOCUMENT,
                     "inputs": values, "outputs": outputs,
                     "rules": [{"id": r.id, "row": r.row_number, "description": r.description} for r in rules]}
            audit.record(instance, "decision", None, task_spec=RULE_TASK, task_name=table_name,
                         changes=decision_log.changes(noted, definition.decisions), via="bench")
            if i % 1000 == 999:
                db.session.commit()
        db.session.commit()
        build_seconds = time.perf_counter() - started
        recorded = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.type == "decision"))
        outcomes = db.session.execute(select(ProcessInstance.outcome, func.count()).where(
            ProcessInstance.id.in_([s.id for s in sales])).group_by(ProcessInstance.outcome)).all()
        print(f"database      {url.split('://')[0]}; {recorded} past sales decided ({real} real sales run to their "
              f"end in {real_seconds:.1f} s: {', '.join(f'{n} {o}' for o, n in sorted(outcomes))}; "
              f"the rest recorded in {build_seconds:.1f} s); load average {os.getloadavg()[0]:.1f}")

        sample = [sale_inputs(rng) for _ in range(total)]
        with Timer() as timed:
            by_dmn = [dmn.decide(loaded, dict(v), workflow)[1] for v in sample]
        print(f"evaluate      {total} decisions through engine.dmn (the replay's path): {timed.each(total)}")
        built = definitions.built_for(definition)
        with Timer() as timed:
            by_decide = [decide.evaluate(built, RULE_TASK, v).outputs for v in sample]
        print(f"              {total} decisions through engine.decide.evaluate (a running sale's suitable "
              f"products, once per active product): {timed.each(total)}")
        assert by_dmn == by_decide, "the two paths disagree"
        spread = sorted({o["outcome"] for o in by_dmn})
        print(f"              both paths agree on all {total}; outcomes: "
              + ", ".join(f"{sum(o['outcome'] == k for o in by_dmn)} {k}" for k in spread))

        with Timer() as timed:
            same = replay.replay(DOCUMENT, table.dmn_xml)
        print(f"replay        unchanged table over {same.total} past sales: {timed.each(same.total)}: "
              f"{same.unchanged} unchanged, {same.changed} changed, {same.not_replayable} not replayable")
        assert same.total == recorded and same.unchanged == recorded, "the unchanged table must change nothing"

        changed_xml = table.dmn_xml.replace(WITNESS_AT_65, WITNESS_AT_60)
        assert changed_xml != table.dmn_xml, "the elderly witness row's age entry was not found"
        with Timer() as timed:
            report = replay.replay(DOCUMENT, changed_xml)
        print(f"              witness age 65 → 60 over {report.total} past sales: {timed.each(report.total)}: "
              f"{report.unchanged} unchanged, {report.changed} changed, {report.not_replayable} not replayable")
        for output, old, new, count in report.change_rows():
            print(f"              {count:6d}  {output}: {old} → {new}")
        events = db.session.scalars(select(AuditEvent.changes).where(AuditEvent.type == "decision"))
        expected = sum(moved_by_the_change(decision_log.read(c)[0] or {}) for c in events)
        print(f"              expected from the rule's condition: {expected} changed")
        assert report.changed == expected, "the replay's count differs from the rule's condition"


if __name__ == "__main__":
    main()
