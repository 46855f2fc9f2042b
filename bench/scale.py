"""Do pages and API calls stay flat as years of history pile up? (issue 9)

Run:  .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--db sqlite|postgresql|both]
                                      [--requests 50] [--port 5106] [--pg-url URL] [--open 400]
                                      [--dir DIR] [--keep] [--build-only] [--reuse]

Build once, measure when the machine is quiet: ``--build-only --keep --dir DIR --pg-url
postgresql+psycopg://…/branch_scale_{size}``, then the same with ``--reuse`` instead.

For each database and size it builds a fresh database of that many task rows with
``bench.scale_data.build`` (300 users, years of finished client registrations, leave requests and
high-risk sales of every shape, ~400 open cases, a few ~900-event histories; real engine templates cloned and
re-sealed),
starts gunicorn with 2 workers on it, and times each operation below over ``--requests``
requests (after 12 warm-up requests, ``SCALE_WARMUP``; ``http.client``, see ``timed``), one client
at a time, as the person who would ask:

- the group inbox page of the GM and of the trading manager, and ``GET /api/v1/tasks?view=groups``;
- the auditor's search by a client's ID number, and by status and month (the month with the most finished
  cases: a full page at every size);
- an ordinary case page, seen by the staff member who registered the client;
- the page of a case with a ~900-event history, seen by its registering staff member;
- the retail head's group inbox page (sales waiting for their witness), the sale register's first page
  (``/sales``, the retail head) and a witnessed sale's case page, seen by its advisor.

It prints p50/p95 per operation, database and size, and the growth of p95 from the smallest
to the largest size. The PostgreSQL database (``--pg-url``) is emptied first (DROP SCHEMA
public CASCADE): give it one of its own. SQLite files go to a temporary folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale_data import BENCH_AUDIT_KEY, BENCH_SECRET_KEY, build  # noqa: E402

PG_URL = "postgresql+psycopg://branch:branch@127.0.0.1:5432/branch_scale"
PASSWORD = "demo1234"
WORKERS = 2
# Warm-up per operation: enough for both workers to have served it several times, so
# their connections prepared its statements (psycopg prepares on the fifth use).
WARMUP = int(os.environ.get("SCALE_WARMUP", "12"))
OPERATIONS = [
    ("inbox_gm", "group inbox page, GM"),
    ("inbox_trading", "group inbox page, trading manager"),
    ("api_gm", "GET /api/v1/tasks?view=groups, GM"),
    ("api_trading", "GET /api/v1/tasks?view=groups, trading mgr"),
    ("search_id", "auditor search by client ID number"),
    ("search_month", "auditor search by status and month"),
    ("case_page", "ordinary case page (its initiator)"),
    ("long_case", "~900-event case history page"),
    ("inbox_retail", "group inbox page, retail head"),
    ("sales", "sale register /sales, retail head"),
    ("sale_case", "witnessed sale case page (its advisor)"),
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@dataclass
class Targets:
    """Who asks for what: usernames, API tokens and the cases and clients asked about."""

    case_id: int
    case_owner: str
    long_case_id: int
    long_owner: str
    long_events: int
    client_id_number: str
    client_case_id: int
    month: dt.date
    month_case_id: int  # the newest completed case started that month: the first row of the search
    sale_case_id: int = 0  # a witnessed sale, seen by its advisor
    sale_owner: str = ""
    sale_record_id: int = 0  # the register's newest row: the first of /sales
    tokens: dict[str, str] = field(default_factory=dict)


def reset(url: str) -> None:
    from sqlalchemy import create_engine, text

    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def targets(url: str, long_case_id: int | None) -> Targets:
    """An ordinary finished case of a staff member, a long history, a client, a month, and tokens."""
    from sqlalchemy import func, select

    from bench.scale_data import fresh_app
    from workflows.branch import tokens
    from workflows.branch.models import User
    from workflows.cases.models import AuditEvent, ProcessInstance
    from workflows.db import db
    from workflows.processes.sale.models import SaleRecord

    app = fresh_app(url)
    with app.app_context():
        total = db.session.scalar(select(func.max(ProcessInstance.id))) or 0
        case = db.session.scalars(
            select(ProcessInstance).where(ProcessInstance.id <= total // 2, ProcessInstance.status == "completed",
                                          ProcessInstance.process_key == "client_ownership",
                                          ProcessInstance.outcome == "End_Registered", ProcessInstance.audit_seq < 40)
            .order_by(ProcessInstance.id.desc()).limit(1)).one()
        client = db.session.scalars(
            select(ProcessInstance).where(ProcessInstance.id <= total * 3 // 4, ProcessInstance.status == "completed",
                                          ProcessInstance.process_key == "client_ownership")
            .order_by(ProcessInstance.id.desc()).limit(1)).one()
        if long_case_id is None:
            long_case_id = db.session.scalar(select(AuditEvent.instance_id).group_by(AuditEvent.instance_id)
                                             .order_by(func.count(AuditEvent.id).desc()).limit(1))
        long_case = db.session.get(ProcessInstance, long_case_id)
        assert long_case is not None
        # the month with the most finished cases (Shanghai days: stored times are UTC), so the search
        # shows a full page at every size: the small database has a few dozen cases a month, and the
        # month of one case may have four (a page of four rows is no measure of a page of fifty)
        shanghai = dt.timedelta(hours=8)
        per_month = Counter((at + shanghai).date().replace(day=1) for at in db.session.scalars(
            select(ProcessInstance.started_at).where(ProcessInstance.status == "completed")))
        month = max(sorted(per_month), key=lambda m: per_month[m])
        after = (month + dt.timedelta(days=32)).replace(day=1)
        # the search's first row: newest start first
        first, last = (dt.datetime.combine(day, dt.time()) - shanghai for day in (month, after))
        month_case = db.session.scalar(
            select(ProcessInstance.id).where(ProcessInstance.status == "completed",
                                             ProcessInstance.started_at >= first, ProcessInstance.started_at < last)
            .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc()).limit(1))
        out = Targets(case.id, case.started_by.username, long_case.id, long_case.started_by.username,
                      long_case.audit_seq, client.business_key or "", client.id, month, month_case or case.id)
        sale = db.session.scalars(select(SaleRecord).where(SaleRecord.outcome == "witness",
                                                           SaleRecord.status == "completed",
                                                           SaleRecord.instance_id <= total // 2)
                                  .order_by(SaleRecord.instance_id.desc()).limit(1)).first()
        newest = db.session.scalar(select(SaleRecord.id).order_by(SaleRecord.finished_at.desc(),
                                                                  SaleRecord.id.desc()).limit(1))
        if sale is not None and newest is not None:
            out.sale_case_id, out.sale_owner, out.sale_record_id = sale.instance_id, sale.advisor.username, newest
        for username in ("gm", "trading"):
            user = db.session.scalars(select(User).where(User.username == username)).one()
            out.tokens[username] = tokens.issue(user, "scale bench")[0]
        db.session.remove()
        db.engine.dispose()
    return out


class Browser:
    """One person logged in through the login form, as a browser would."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.s = requests.Session()
        page = self.s.get(f"{base}/login", timeout=60).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        r = self.s.post(f"{base}/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                        allow_redirects=False, timeout=60)
        if r.status_code != 302:
            raise RuntimeError(f"login of {username} failed: {r.status_code}")


def timed(session: requests.Session, url: str, expect: str | None, n: int, headers: dict | None = None) -> list[float]:
    """``n`` timed GETs after ``WARMUP`` warm-up ones; each must answer 200 (and show ``expect``).

    Timed with ``http.client``, a new connection per request (gunicorn's sync workers close each),
    carrying the session's cookies: ``requests`` costs about 1.2 ms more per call on this client side
    (measured against a static file: p50 2.35 ms with requests, 1.19 ms with http.client), CPU
    taken from the same two cores the server runs on, and no part of what the page costs."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    sent = {"Host": parts.netloc, **(headers or {})}
    cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    if cookies:
        sent["Cookie"] = cookies
    out = []
    for k in range(n + WARMUP):
        start = time.perf_counter()
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=300)
        try:
            conn.request("GET", path, headers=sent)
            answer = conn.getresponse()
            body = answer.read()
        finally:
            conn.close()
        elapsed = time.perf_counter() - start
        if answer.status != 200 or (expect is not None and expect not in body.decode("utf-8")):
            raise RuntimeError(f"GET {url}: {answer.status}, expected {expect!r}: {body[:300]!r}")
        if k >= WARMUP:
            out.append(elapsed * 1000)
    return out


def measure(url: str, t: Targets, port: int, n: int, logdir: Path) -> dict[str, tuple[float, float]]:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": BENCH_SECRET_KEY, "AUDIT_KEY": BENCH_AUDIT_KEY,
           "AUDIT_CHECKPOINT_DIR": str(logdir / "audit"), "API_RATE_LIMIT": "100000 per minute"}
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "--timeout", "300",
         "--error-logfile", str(logdir / "gunicorn.log"), "wsgi:app"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                requests.get(base + "/login", timeout=30)
                break
            except requests.RequestException:
                time.sleep(0.1)
        people = {u: Browser(base, u) for u in {"gm", "trading", "auditor", "retail", t.case_owner, t.long_owner,
                                                 t.sale_owner} if u}
        month_end = (t.month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        api = requests.Session()
        results: dict[str, list[float]] = {
            "inbox_gm": timed(people["gm"].s, f"{base}/?view=groups", None, n),
            "inbox_trading": timed(people["trading"].s, f"{base}/?view=groups", None, n),
            "api_gm": timed(api, f"{base}/api/v1/tasks?view=groups", '"items"', n,
                            {"Authorization": f"Bearer {t.tokens['gm']}"}),
            "api_trading": timed(api, f"{base}/api/v1/tasks?view=groups", '"items"', n,
                                 {"Authorization": f"Bearer {t.tokens['trading']}"}),
            "search_id": timed(people["auditor"].s, f"{base}/audit/?client={t.client_id_number}",
                               f"/cases/{t.client_case_id}\"", n),
            "search_month": timed(people["auditor"].s, f"{base}/audit/?status=completed&from={t.month}"
                                  f"&to={month_end}", f"/cases/{t.month_case_id}\"", n),
            "case_page": timed(people[t.case_owner].s, f"{base}/cases/{t.case_id}", None, n),
            "long_case": timed(people[t.long_owner].s, f"{base}/cases/{t.long_case_id}", None, n),
            "inbox_retail": timed(people["retail"].s, f"{base}/?view=groups", None, n),
        }
        if t.sale_case_id:  # a database with sales
            results["sales"] = timed(people["retail"].s, f"{base}/sales", f'/sales/{t.sale_record_id}"', n)
            results["sale_case"] = timed(people[t.sale_owner].s, f"{base}/cases/{t.sale_case_id}", None, n)
    finally:
        server.terminate()
        server.wait(30)
    return {k: (statistics.median(v), pct(v, 95)) for k, v in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="task rows, comma-separated")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--port", type=int, default=5106)
    parser.add_argument("--pg-url", default=os.environ.get("SCALE_PG_URL", PG_URL))
    parser.add_argument("--open", type=int, default=400, help="open cases (the same at every size)")
    parser.add_argument("--dir", default=None, help="folder for the SQLite files and logs (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure a database this bench built before (same --dir / --pg-url) without rebuilding")
    parser.add_argument("--keep", action="store_true", help="keep every SQLite file built (default: only the last)")
    parser.add_argument("--build-only", action="store_true",
                        help="build the databases and stop (measure them later with --reuse, e.g. on a quiet machine)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    work = Path(args.dir or tempfile.mkdtemp(prefix="scale-"))
    work.mkdir(parents=True, exist_ok=True)
    table: dict[tuple[str, int], dict[str, tuple[float, float]]] = {}
    builds: dict[tuple[str, int], str] = {}
    for db_name in dbs:
        for size in sizes:
            # a PostgreSQL URL may name one database per size: .../branch_scale_{size}
            url = f"sqlite:///{work}/scale-{size}.db" if db_name == "sqlite" else args.pg_url.format(size=size)
            print(f"\n== {db_name}, {size} task rows ==", flush=True)
            if args.reuse:
                builds[(db_name, size)] = "reused"
                t = targets(url, None)
            else:
                reset(url)
                stats = build(url, size, open_cases=args.open, log=lambda line: print(line, flush=True))
                builds[(db_name, size)] = stats.line()
                if args.build_only:
                    continue
                t = targets(url, stats.long_case_id)
            print(f"ordinary case #{t.case_id} ({t.case_owner}), long case #{t.long_case_id} "
                  f"({t.long_events} events), client {t.client_id_number}, month {t.month:%Y-%m}", flush=True)
            table[(db_name, size)] = measure(url, t, args.port, args.requests, work)
            for key, label in OPERATIONS:
                if key in table[(db_name, size)]:
                    p50, p95 = table[(db_name, size)][key]
                    print(f"  {label:<45} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms", flush=True)
            if db_name == "sqlite" and size != sizes[-1] and not (args.reuse or args.keep):
                Path(f"{work}/scale-{size}.db").unlink(missing_ok=True)
    if args.build_only:
        for key, line in builds.items():
            print(f"built {key[0]} {key[1]}: {line}")
        return
    report(table, builds, dbs, sizes, args.requests)


def report(table: dict, builds: dict, dbs: list[str], sizes: list[int], n: int) -> None:
    print(f"\n== p50 / p95 in ms over {n} requests, gunicorn {WORKERS} workers, one client ==")
    for key in builds:
        print(f"build {key[0]} {key[1]}: {builds[key]}")
    head = "| operation | db | " + " | ".join(f"{s:,} rows" for s in sizes) + \
        f" | p95 growth {sizes[0]:,}→{sizes[-1]:,} |"
    print(head)
    print("|" + "---|" * (len(sizes) + 3))
    for key, label in OPERATIONS:
        for db_name in dbs:
            if any(key not in table[(db_name, s)] for s in sizes):
                continue
            cells = []
            for s in sizes:
                p50, p95 = table[(db_name, s)][key]
                cells.append(f"{p50:.0f} / {p95:.0f}")
            growth = table[(db_name, sizes[-1])][key][1] / table[(db_name, sizes[0])][key][1]
            print(f"| {label} | {db_name} | " + " | ".join(cells) + f" | {growth:.1f}× |")


if __name__ == "__main__":
    main()
