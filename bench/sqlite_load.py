"""Concurrent completions and auditor case views on SQLite, under gunicorn with 4 workers.

Run:  .venv/bin/python bench/sqlite_load.py [--seconds 40] [--port 5104]

It builds a fresh SQLite database in a temporary folder (migrate, deploy bpmn/ and the
rework test diagram, seed the demo branch, issue API tokens), starts gunicorn with 4 sync
workers, and for ``--seconds`` runs over the JSON API:

- 4 clients completing tasks: each starts a rework case as a staff member, completes its
  submit step, and completes the review as the GM (three writes per loop);
- 2 auditors reading cases: the case, its history and its open task, for recent cases.

It prints requests by kind and every answer that is not a success (status codes), then
checks that every worker still works: the auditor reads a case started just then, concurrently,
until each worker's process id has been seen in gunicorn's access log answering 200 (a worker
stuck on an old snapshot answers 404; the read also writes the security log), and no 5xx. Exit
status 1 if there was any error, a worker was restarted, or one did not answer.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REWORK = ROOT / "tests" / "bpmn" / "rework.bpmn"
WORKERS = 4
COMPLETERS = ["staff01", "staff02", "staff03", "staff04"]
AUDITORS = 2
# The history must be signed (any key will do here); checkpoints go to the bench's own folder.
AUDIT_ENV = {"AUDIT_KEY": "bench:bench-audit-key-not-secret",
             "AUDIT_CHECKPOINT_DIR": str(Path(tempfile.gettempdir()) / "bench-sqlite-load-audit")}


def flask(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", **AUDIT_ENV}
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    return done.stdout


def prepare(url: str) -> dict[str, str]:
    """The documented set-up on a fresh database, then one API token per client."""
    flask(url, "db", "upgrade")
    flask(url, "processes", "deploy", str(ROOT / "bpmn"), str(REWORK))
    flask(url, "seed", "demo")
    from webapp import create_app
    from workflows.branch import tokens
    from workflows.branch.models import User
    from workflows.db import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "AUDIT_KEY": AUDIT_ENV["AUDIT_KEY"]})
    out = {}
    with app.app_context():
        for username in [*COMPLETERS, "gm", "auditor"]:
            user = db.session.scalars(db.select(User).where(User.username == username)).one()
            out[username] = tokens.issue(user, "bench")[0]
        db.session.remove()
        db.engine.dispose()
    return out


class Tally:
    """Requests by kind and the statuses of those that failed, shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ok: collections.Counter[str] = collections.Counter()
        self.conflicts: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[tuple[str, str]] = collections.Counter()
        self.samples: list[str] = []
        self.case_ids: list[int] = []

    def note(self, kind: str, response: requests.Response | None, exc: Exception | None = None,
             expect: int = 200) -> bool:
        with self.lock:
            if response is not None and response.status_code == expect:
                self.ok[kind] += 1
                return True
            if response is not None and response.status_code == 409:
                self.conflicts[kind] += 1  # a lost race is an answer, not an error
                return False
            status = str(response.status_code) if response is not None else type(exc).__name__
            self.errors[(kind, status)] += 1
            if len(self.samples) < 8:
                body = response.text[:200] if response is not None else str(exc)[:200]
                self.samples.append(f"{kind} {status}: {body}")
            return False


def api(session: requests.Session, method: str, url: str, token: str, **kw) -> requests.Response:
    return session.request(method, url, headers={"Authorization": f"Bearer {token}"}, timeout=60, **kw)


def completer(base: str, username: str, tokens: dict[str, str], tally: Tally, stop: float) -> None:
    s = requests.Session()
    staff, gm = tokens[username], tokens["gm"]
    while time.monotonic() < stop:
        try:
            r = api(s, "POST", f"{base}/api/v1/processes/test_rework/instances", staff, json={"data": {}})
            if not tally.note("start case", r, expect=201):
                continue
            case = r.json()
            with tally.lock:
                tally.case_ids.append(case["id"])
            submit = case["open_tasks"][0]["id"]
            r = api(s, "POST", f"{base}/api/v1/tasks/{submit}/complete", staff,
                    json={"data": {"amount": random.randint(1, 10**6)}})
            if not tally.note("complete submit", r):
                continue
            review = r.json()["instance"]["open_tasks"][0]["id"]
            r = api(s, "POST", f"{base}/api/v1/tasks/{review}/complete", gm, json={"data": {"decision": "approve"}})
            tally.note("complete review", r)
        except requests.RequestException as exc:
            tally.note("connection", None, exc)


def auditor(base: str, token: str, tally: Tally, stop: float) -> None:
    s = requests.Session()
    while time.monotonic() < stop:
        with tally.lock:
            recent = tally.case_ids[-20:]
        if not recent:
            time.sleep(0.05)
            continue
        case_id = random.choice(recent)
        try:
            r = api(s, "GET", f"{base}/api/v1/instances/{case_id}", token)
            if not tally.note("auditor case", r):
                continue
            tally.note("auditor history", api(s, "GET", f"{base}/api/v1/instances/{case_id}/history", token))
            for task in r.json()["open_tasks"][:1]:
                tally.note("auditor task", api(s, "GET", f"{base}/api/v1/tasks/{task['id']}", token))
        except requests.RequestException as exc:
            tally.note("connection", None, exc)


def worker_pids(master: int) -> set[int]:
    path = Path(f"/proc/{master}/task/{master}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def access_lines(log: Path, start: int) -> list[tuple[int, int, str]]:
    """(worker pid, status, request) for each access-log line after byte ``start``."""
    rows = []
    with log.open() as fh:
        fh.seek(start)
        for line in fh:
            pid, status, request = line.rstrip("\n").split(" ", 2)
            rows.append((int(pid.strip("<>")), int(status), request))
    return rows


def every_worker_answers(base: str, tokens: dict[str, str], master: int,
                         log: Path) -> tuple[dict[int, collections.Counter], set[int]]:
    """A case started now, then read by the auditor concurrently until every live worker has
    answered; returns statuses per worker pid. Reading it needs the newest data (a worker stuck
    on an old snapshot answers 404) and a write (the auditor's whole-record view is logged)."""
    statuses = []
    with requests.Session() as s:
        for _ in range(20):  # a broken worker may take the first tries
            fresh = api(s, "POST", f"{base}/api/v1/processes/test_rework/instances", tokens[COMPLETERS[0]],
                        json={"data": {}})
            statuses.append(fresh.status_code)
            if fresh.status_code == 201:
                break
    print(f"starting a fresh case: {statuses}")
    if fresh.status_code != 201:
        return {}, worker_pids(master)
    path = f"{base}/api/v1/instances/{fresh.json()['id']}"
    pids = worker_pids(master)
    start = log.stat().st_size
    seen: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    deadline = time.monotonic() + 60

    def one(_: int) -> None:
        with requests.Session() as s:
            for _ in range(10):
                api(s, "GET", path, tokens["auditor"])

    with ThreadPoolExecutor(8) as pool:
        while time.monotonic() < deadline:
            list(pool.map(one, range(16)))
            time.sleep(0.2)  # let gunicorn write its access log
            seen.clear()
            for pid, status, _ in access_lines(log, start):
                seen[pid][status] += 1
            if all(seen[p][200] for p in pids):
                break
    return seen, pids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--port", type=int, default=5104)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sqlite-load-"))
    url = f"sqlite:///{tmp}/load.db"
    print(f"database {url}")
    tokens = prepare(url)
    access, errors = tmp / "access.log", tmp / "error.log"
    # The per-token rate limit is not what this measures: the GM token alone completes ~20 reviews a second.
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", **AUDIT_ENV, "API_RATE_LIMIT": "100000 per minute"}
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{args.port}",
         "--timeout", "30", "--access-logfile", str(access), "--access-logformat", "%(p)s %(s)s %(m)s %(U)s",
         "--error-logfile", str(errors), "--capture-output", "wsgi:app"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{args.port}"
    failed = False
    try:
        for _ in range(300):
            try:
                requests.get(base + "/login", timeout=30)
                break
            except requests.RequestException:
                time.sleep(0.1)
        tally = Tally()
        stop = time.monotonic() + args.seconds
        threads = [threading.Thread(target=completer, args=(base, u, tokens, tally, stop)) for u in COMPLETERS]
        threads += [threading.Thread(target=auditor, args=(base, tokens["auditor"], tally, stop))
                    for _ in range(AUDITORS)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.monotonic() - began
        print(f"\n== {len(COMPLETERS)} completing clients + {AUDITORS} auditors, gunicorn {WORKERS} workers, "
              f"SQLite, {took:.1f} s ==")
        for kind in sorted(set(tally.ok) | set(tally.conflicts) | {k for k, _ in tally.errors}):
            errs = {s: n for (k, s), n in tally.errors.items() if k == kind}
            print(f"{kind:<18} {tally.ok[kind]:6d} ok  {tally.conflicts[kind]:4d} conflict (409)  "
                  f"errors: {errs or 0}")
        total_ok = sum(tally.ok.values())
        print(f"{'total':<18} {total_ok:6d} ok  ({total_ok / took:.1f} requests/s)  "
              f"errors: {sum(tally.errors.values())}")
        for sample in tally.samples:
            print("  e.g.", sample)
        failed = bool(tally.errors)

        print("\n== Every worker answers afterwards ==")
        seen, pids = every_worker_answers(base, tokens, server.pid, access)
        for pid in sorted(pids | set(seen)):
            counts = dict(sorted(seen[pid].items()))
            ok = seen[pid][200] > 0 and set(seen[pid]) == {200}  # a 404 is a worker reading an old snapshot
            failed |= not ok
            print(f"worker {pid}: {counts}  {'answers' if ok else 'BROKEN'}")
        if len(pids) != WORKERS:
            failed = True
            print(f"{len(pids)} of {WORKERS} workers alive")
        log_text = errors.read_text()
        crashed, busy = log_text.count("Traceback"), log_text.count("database busy")
        restarted = log_text.count("Booting worker") - WORKERS
        print(f"server log: {crashed} tracebacks, {busy} busy answers, {restarted} workers restarted")
        failed |= crashed > 0 or restarted > 0
    finally:
        server.terminate()
        server.wait(15)
    print("\nRESULT:", "FAILED" if failed else "0 errors, every worker answers")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
