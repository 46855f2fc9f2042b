"""Do pages and API calls stay flat as years of history pile up? (issue 9)

Run:  .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--db sqlite|postgresql|both]
                                      [--requests 50] [--rounds 5] [--port 5106] [--pg-url URL] [--open 400]
                                      [--dir DIR] [--keep] [--build-only] [--reuse]

Build once, measure when the machine is quiet: ``--build-only --keep --dir DIR --pg-url
postgresql+psycopg://…/branch_scale_{size}``, then the same with ``--reuse`` instead.

For each database and size it builds a fresh database of that many task rows with
``bench.scale_data.build`` (300 users, years of finished client registrations, leave requests and
high-risk sales of every shape, ~400 open cases, a few ~900-event histories; real engine templates cloned and
re-sealed),
starts one gunicorn with 2 workers on each size's database (all sizes of a database up side by
side), and times each operation below over ``--requests`` requests (after 12 warm-up requests,
``SCALE_WARMUP``; ``http.client``, see ``Probe.once``), one request at a time, every size of an
operation back to back (see ``measure``), as the person who would ask:

- the group inbox page of the GM and of the trading manager, and ``GET /api/v1/tasks?view=groups``;
- the auditor's search by a client's ID number, and by status and month (the month with the most finished
  cases: a full page at every size);
- an ordinary case page, seen by the staff member who registered the client;
- the page of a case with a ~900-event history, seen by its registering staff member;
- the retail head's group inbox page (sales waiting for their witness), the sale register's first page
  (``/sales``, the retail head) and a witnessed sale's case page, seen by its advisor;
- the GM's own lists, newest page: "My cases" (``/cases``: every case they started or approved a step
  of, over the years) and the notices (``/notices``, 抄送我的).

It does all of that ``--rounds`` times (5) and prints p50/p95 per operation, database and size
(the median of the rounds, with the range of the rounds' p95), and the growth of p95 from the
smallest to the largest size. The PostgreSQL database (``--pg-url``) is emptied first (DROP SCHEMA
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
    ("my_cases_gm", "my cases /cases, GM (newest page)"),
    ("notices_gm", "notices /notices, GM (newest page)"),
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]



@dataclass
class Figures:
    """One operation at one size: p50 and p95 of each round of ``n`` requests."""

    p50s: list[float] = field(default_factory=list)
    p95s: list[float] = field(default_factory=list)

    def add(self, times: list[float]) -> None:
        self.p50s.append(statistics.median(times))
        self.p95s.append(pct(times, 95))

    @property
    def p50(self) -> float:
        return statistics.median(self.p50s)

    @property
    def p95(self) -> float:
        """The median round's p95: one slow spell of the machine moves one round, not the figure."""
        return statistics.median(self.p95s)

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

    def cookie(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in self.s.cookies)}


@dataclass
class Probe:
    """One GET as one person would send it, and what its answer must show."""

    url: str
    expect: str | None
    headers: dict[str, str]

    def once(self) -> float:
        """Milliseconds for one GET; it must answer 200 (and show ``expect``).

        Timed with ``http.client``, a new connection per request (gunicorn's sync workers close each):
        ``requests`` costs about 1.2 ms more per call on this client side (measured against a static
        file: p50 2.35 ms with requests, 1.19 ms with http.client), CPU taken from the same two cores
        the server runs on, and no part of what the page costs."""
        parts = urlsplit(self.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        start = time.perf_counter()
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=300)
        try:
            conn.request("GET", path, headers={"Host": parts.netloc, **self.headers})
            answer = conn.getresponse()
            body = answer.read()
        finally:
            conn.close()
        elapsed = (time.perf_counter() - start) * 1000
        if answer.status != 200 or (self.expect is not None and self.expect not in body.decode("utf-8")):
            raise RuntimeError(f"GET {self.url}: {answer.status}, expected {self.expect!r}: {body[:300]!r}")
        return elapsed


def probes(base: str, t: Targets) -> dict[str, Probe]:
    """Every operation of ``OPERATIONS`` this database has, against the server at ``base``."""
    people = {u: Browser(base, u).cookie() for u in {"gm", "trading", "auditor", "retail", t.case_owner,
                                                     t.long_owner, t.sale_owner} if u}
    month_end = (t.month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    out = {
        "inbox_gm": Probe(f"{base}/?view=groups", None, people["gm"]),
        "inbox_trading": Probe(f"{base}/?view=groups", None, people["trading"]),
        "api_gm": Probe(f"{base}/api/v1/tasks?view=groups", '"items"',
                        {"Authorization": f"Bearer {t.tokens['gm']}"}),
        "api_trading": Probe(f"{base}/api/v1/tasks?view=groups", '"items"',
                             {"Authorization": f"Bearer {t.tokens['trading']}"}),
        "search_id": Probe(f"{base}/audit/?client={t.client_id_number}", f"/cases/{t.client_case_id}\"",
                           people["auditor"]),
        "search_month": Probe(f"{base}/audit/?status=completed&from={t.month}&to={month_end}",
                              f"/cases/{t.month_case_id}\"", people["auditor"]),
        "case_page": Probe(f"{base}/cases/{t.case_id}", None, people[t.case_owner]),
        "long_case": Probe(f"{base}/cases/{t.long_case_id}", None, people[t.long_owner]),
        "inbox_retail": Probe(f"{base}/?view=groups", None, people["retail"]),
    }
    out["my_cases_gm"] = Probe(f"{base}/cases", 'id="case-table"', people["gm"])
    out["notices_gm"] = Probe(f"{base}/notices", 'id="notices"', people["gm"])
    if t.sale_case_id:  # a database with sales
        out["sales"] = Probe(f"{base}/sales", f'/sales/{t.sale_record_id}"', people["retail"])
        out["sale_case"] = Probe(f"{base}/cases/{t.sale_case_id}", None, people[t.sale_owner])
    return out


def serve(url: str, port: int, logdir: Path) -> subprocess.Popen:
    """gunicorn with ``WORKERS`` workers on ``url``, answering at ``port``."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": BENCH_SECRET_KEY, "AUDIT_KEY": BENCH_AUDIT_KEY,
           "AUDIT_CHECKPOINT_DIR": str(logdir / f"audit-{port}"), "API_RATE_LIMIT": "100000 per minute"}
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "--timeout", "300",
         "--error-logfile", str(logdir / f"gunicorn-{port}.log"), "wsgi:app"], cwd=ROOT, env=env)
    for _ in range(600):
        try:
            requests.get(f"http://127.0.0.1:{port}/login", timeout=30)
            return server
        except requests.RequestException:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"gunicorn on {url} did not answer")


def measure(runs: dict[int, tuple[str, Targets]], port: int, n: int, rounds: int,
            logdir: Path) -> dict[int, dict[str, Figures]]:
    """p50 and p95 of every operation at every size of one database, measured side by side.

    One gunicorn per size, all up at once. Each operation is measured at every size back to back
    (``WARMUP`` warm-up requests, then ``n`` timed ones, at one size, then the next; the order of the
    sizes alternates from one operation to the next), so the sizes compared are measured within a
    second or two of each other. This machine's speed moves by up to 30% between runs a minute
    apart: measured one size after the other, a whole database at a time, the growth factor
    compared two different machines. Only one request is ever in flight, so the idle servers take
    no CPU from it. All of that ``rounds`` times, half a minute or so apart: a p95 of fifty requests
    is their third slowest, and a slow spell of a second or two moves it by half, as does the other
    gunicorn worker taking a few requests in a row with cold caches (a 4 ms request then takes 7);
    the report gives the median round and the range of all. (Round robin request by request was tried: every p50 rose
    by ~2 ms, each request landing on a server process whose CPU caches the other server had just
    taken, a cost of this bench running one server per size on two cores, not of the pages.)"""
    servers = []
    try:
        every: dict[int, dict[str, Probe]] = {}
        for k, (size, (url, t)) in enumerate(runs.items()):
            servers.append(serve(url, port + k, logdir))
            every[size] = probes(f"http://127.0.0.1:{port + k}", t)
        keys = [key for key, _ in OPERATIONS if all(key in ops for ops in every.values())]
        figures = {size: {key: Figures() for key in keys} for size in every}
        for r in range(rounds):
            for k, key in enumerate(keys):
                for size in list(every) if (k + r) % 2 == 0 else list(every)[::-1]:
                    probe = every[size][key]
                    for _ in range(WARMUP):
                        probe.once()
                    figures[size][key].add([probe.once() for _ in range(n)])
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(30)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="task rows, comma-separated")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of --requests each (median round reported)")
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
    table: dict[tuple[str, int], dict[str, Figures]] = {}
    builds: dict[tuple[str, int], str] = {}
    for db_name in dbs:
        runs: dict[int, tuple[str, Targets]] = {}
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
            runs[size] = (url, t)
        if args.build_only:
            continue
        print(f"\n== measuring {db_name}: {', '.join(f'{s:,}' for s in sizes)} task rows side by side ==", flush=True)
        for size, results in measure(runs, args.port, args.requests, args.rounds, work).items():
            table[(db_name, size)] = results
            print(f"-- {db_name}, {size} task rows", flush=True)
            for key, label in OPERATIONS:
                if key in results:
                    fig = results[key]
                    print(f"  {label:<45} p50 {fig.p50:8.1f} ms   p95 {fig.p95:8.1f} ms   rounds' p95 "
                          + " ".join(f"{v:.1f}" for v in fig.p95s), flush=True)
        if db_name == "sqlite" and not (args.reuse or args.keep):
            for size in sizes[:-1]:
                Path(f"{work}/scale-{size}.db").unlink(missing_ok=True)
    if args.build_only:
        for key, line in builds.items():
            print(f"built {key[0]} {key[1]}: {line}")
        return
    report(table, builds, dbs, sizes, args.requests, args.rounds)


def report(table: dict, builds: dict, dbs: list[str], sizes: list[int], n: int, rounds: int) -> None:
    print(f"\n== p50 / p95 in ms over {n} requests, the median of {rounds} rounds (the rounds' p95 in brackets), "
          f"gunicorn {WORKERS} workers, one client ==")
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
                fig = table[(db_name, s)][key]
                spread = f" ({min(fig.p95s):.0f}–{max(fig.p95s):.0f})" if len(fig.p95s) > 1 else ""
                cells.append(f"{fig.p50:.0f} / {fig.p95:.0f}{spread}")
            growth = table[(db_name, sizes[-1])][key].p95 / table[(db_name, sizes[0])][key].p95
            print(f"| {label} | {db_name} | " + " | ".join(cells) + f" | {growth:.1f}× |")

if __name__ == "__main__":
    main()
