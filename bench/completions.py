"""Task completion cost: full stack over HTTP vs the engine alone, rework rounds,
and a large inbox.

Run:  .venv/bin/python bench/completions.py [--cases 300] [--rounds 300] [--inbox 3300]

It builds a fresh SQLite database in a temporary folder (or uses DATABASE_URL),
starts the app with gunicorn (one sync worker) on a free loopback port, and
drives it with one HTTP client, as a person at a browser would.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REWORK = ROOT / "tests" / "bpmn" / "rework.bpmn"
BENCH_AUDIT_KEY = "bench:bench-audit-key-not-secret"  # the history must be signed; any key will do here


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(label: str, seconds: list[float]) -> tuple[float, float, float]:
    ms = [s * 1000 for s in seconds]
    rate = len(seconds) / sum(seconds)
    p50, p95 = statistics.median(ms), pct(ms, 95)
    print(f"{label:<34} {rate:8.1f} completions/s   p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   (n={len(ms)})")
    return rate, p50, p95


def prepare(url: str, cases: int, inbox: int) -> None:
    from webapp import create_app
    from webapp.migrations_cli import upgrade
    from workflows.branch.demo import seed_demo
    from workflows.branch.models import User
    from workflows.cases import commands as case_api
    from workflows.cases import definitions
    from workflows.cases.models import HumanTask
    from workflows.db import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "AUDIT_KEY": BENCH_AUDIT_KEY})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        definitions.deploy_directory(ROOT / "bpmn")
        definitions.deploy(REWORK.read_text("utf-8"), {}, filename="rework.bpmn")
        db.session.commit()
        seed_demo(with_cases=False)
        staff = db.session.scalars(db.select(User).where(User.username == "staff01")).one()
        for _ in range(cases + 1):
            case_api.start_case("test_rework", staff, {})
        engine_staff = db.session.scalars(db.select(User).where(User.username == "staff02")).one()
        for _ in range(cases):  # the engine-alone sample: same diagram, same step, never touched over HTTP
            case_api.start_case("test_rework", engine_staff, {})
        others = db.session.scalars(db.select(User).where(User.username.like("staff%"))).all()
        others = [u for u in others if u.username not in ("staff01", "staff02")]
        for i in range(inbox):
            person = others[i % len(others)]
            instance = case_api.start_case("test_rework", person, {})
            submit = db.session.scalars(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                                  HumanTask.state == "open")).one()
            case_api.complete_task(submit.id, person, {"amount": "1"})  # the review lands in the GM's group inbox
        print(f"prepared {2 * cases + 1 + inbox} cases")


def engine_alone(url: str, n: int) -> list[float]:
    """deserialize → complete → serialize, the engine's share of one request."""
    from webapp import create_app
    from workflows.branch.models import User
    from workflows.cases import definitions, projection
    from workflows.cases.context import CaseContext
    from workflows.cases.models import HumanTask, ProcessInstance
    from workflows.db import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "AUDIT_KEY": BENCH_AUDIT_KEY})
    timings = []
    with app.app_context():
        rows = db.session.scalars(
            db.select(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .join(User, User.id == ProcessInstance.started_by_id)
            .where(HumanTask.state == "open", HumanTask.spec_id == "Task_Submit", User.username == "staff02")
            .limit(n)).all()
        samples = [(db.session.get(ProcessInstance, r.instance_id), r.spiff_task_id) for r in rows]
        for instance, spiff_id in samples:
            built = definitions.built_for(instance.definition)
            assert instance.state  # a deferred column: loaded before the clock starts
            start = time.perf_counter()
            ctx = CaseContext(instance, None)
            inst = projection.load(ctx, built)
            inst.run_task(inst.task(spiff_id), {"amount": 1})
            inst.run()
            inst.save()
            timings.append(time.perf_counter() - start)
        db.session.rollback()
    return timings


class Client:
    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.s = requests.Session()
        token = self._token("/login")
        r = self.s.post(f"{base}/login", data={"username": username, "password": "demo1234", "csrf_token": token},
                        allow_redirects=False)
        assert r.status_code == 302, r.status_code
        self.token = self._token("/")

    def _token(self, path: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.s.get(self.base + path).text).group(1)

    def complete(self, task_id: int, data: dict) -> float:
        start = time.perf_counter()
        r = self.s.post(f"{self.base}/tasks/{task_id}", data={**data, "csrf_token": self.token},
                        headers={"Accept": "application/json"}, allow_redirects=False)
        elapsed = time.perf_counter() - start
        assert r.status_code == 200, (r.status_code, r.text[:300])
        return elapsed

    def get(self, path: str) -> float:
        start = time.perf_counter()
        r = self.s.get(self.base + path)
        elapsed = time.perf_counter() - start
        assert r.status_code == 200
        return elapsed


def open_task_ids(url: str, spec: str, username: str | None = None, limit: int = 100000) -> list[int]:
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.connect() as c:
        query = "SELECT h.id FROM human_task h JOIN process_instance p ON p.id = h.instance_id " \
                "JOIN \"user\" u ON u.id = p.started_by_id WHERE h.state = 'open' AND h.spec_id = :spec"
        params = {"spec": spec}
        if username:
            query += " AND u.username = :u"
            params["u"] = username
        rows = [r[0] for r in c.execute(text(query + " ORDER BY h.id LIMIT :n"), {**params, "n": limit})]
    eng.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--inbox", type=int, default=3300)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    prepare(url, args.cases, args.inbox)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "AUDIT_KEY": BENCH_AUDIT_KEY}
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}",
                               "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(base + "/login", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.1)
        staff = Client(base, "staff01")
        ids = open_task_ids(url, "Task_Submit", "staff01")[: args.cases]
        warm, ids = ids[:1], ids[1:]
        for task_id in warm:
            staff.complete(task_id, {"amount": "1"})
        print("\n== Task completions (SQLite, gunicorn 1 worker, 1 client on loopback) ==")
        full = summary("full stack (HTTP+DB+audit)", [staff.complete(t, {"amount": "1"}) for t in ids])
        alone = summary("engine alone (deser→complete→ser)", engine_alone(url, len(ids)))
        print(f"{'ratio full/engine':<34} rate {alone[0] / full[0]:6.2f}x slower   p50 {full[1] / alone[1]:6.2f}x")

        print("\n== Send-back rounds (one case, submit → review send back, over HTTP) ==")
        gm = Client(base, "gm")
        case_ids = open_task_ids(url, "Task_Submit", "staff01")
        from sqlalchemy import create_engine, text

        eng = create_engine(url)

        def open_of(instance_id: int, spec: str) -> int:
            with eng.connect() as c:
                return c.execute(text("SELECT id FROM human_task WHERE instance_id = :i AND spec_id = :s "
                                      "AND state = 'open'"), {"i": instance_id, "s": spec}).scalar_one()

        with eng.connect() as c:
            instance_id = c.execute(text("SELECT instance_id FROM human_task WHERE id = :t"),
                                    {"t": case_ids[0]}).scalar_one()
        per_round: dict[int, list[float]] = {}
        for round_no in range(1, args.rounds + 1):
            t1 = staff.complete(open_of(instance_id, "Task_Submit"), {"amount": str(round_no)})
            t2 = gm.complete(open_of(instance_id, "Task_Review"), {"decision": "send_back"})
            per_round[round_no] = [t1, t2]
        marks = [m for m in (1, 100, 300) if m <= args.rounds]
        base_ms = None
        for mark in marks:
            rounds = range(1, 11) if mark == 1 else range(mark - 9, mark + 1)  # ten rounds, twenty requests
            window = [t for r in rounds if r in per_round for t in per_round[r]]
            med = statistics.median(window) * 1000
            base_ms = base_ms or med
            with eng.connect() as c:
                size = len(c.execute(text("SELECT state FROM process_instance WHERE id = :i"),
                                     {"i": instance_id}).scalar_one())
            label = "rounds   1-10" if mark == 1 else f"rounds {mark - 9:>3}-{mark:<3}"
            print(f"{label}: median request {med:6.2f} ms  ({med / base_ms:4.2f}x rounds 1-10)  "
                  f"state {size / 1024:6.1f} KiB")
        eng.dispose()

        print("\n== Inbox ==")
        times = [gm.get("/?view=groups") for _ in range(20)]
        ms = [t * 1000 for t in times]
        print(f"GM group inbox with {args.inbox}+ open tasks: p50 {statistics.median(ms):6.2f} ms  "
              f"p95 {pct(ms, 95):6.2f} ms")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
