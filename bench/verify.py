"""`flask audit verify` at scale: full and incremental time, and peak memory of the whole command.

Run:  .venv/bin/python bench/verify.py --url sqlite:////tmp/big.db [--append 1000] [--workers 2] [--repeat 3]
      .venv/bin/python bench/verify.py --url postgresql+psycopg://branch:branch@127.0.0.1:5432/branch_scale

The database must hold cases whose histories are signed with ``--audit-key`` (bench/scale_data.py
builds such a database; its key is the default here). In a fresh checkpoint folder the script
then runs, each as its own ``flask audit verify`` process, as an operator would:

1. ``flask audit checkpoint`` (a plain checkpoint, as the sweeper writes every minute);
2. ``flask audit verify --full``: every case, which writes the verified checkpoint (``--repeat`` times);
3. ``--append`` new events through the real commands (claims and releases of open tasks, each in
   its own transaction, so keyed, chained and sealed), then a plain checkpoint;
4. ``flask audit verify``: the incremental run from the verified checkpoint; 3 and 4 ``--repeat`` times;
5. ``flask audit verify`` once more, with nothing new.

It prints the median of the repeated runs with each run's figures: a full run reads the whole
database, and one that finds it out of the page cache, or meets a slow spell of a shared machine,
takes up to twice as long for reasons that are not verify's.

Time is wall-clock for the whole command (Python start and app import included; ``flask audit root``
is timed too, as that floor; the app's bytecode is compiled first, as in a deployment), events read per
second and CPU microseconds per event (beyond the floor), and CPU seconds (user + system of the
command and its workers: what the run costs whatever else the machine is doing; the load average
is printed too). Memory is the
resident set of the command and all its worker processes, sampled every 20 ms and summed over the
processes alive at once (shared pages counted once per process, so it over-counts); the sum of each
process's own peak (VmHWM), an upper bound; and the summed proportional set size (PSS: each shared
page split among its sharers), the memory actually used.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_AUDIT_KEY = "bench:bench-audit-key-not-secret"


def _children(pid: int) -> list[int]:
    out = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out  # it has just ended
    for task in tasks:
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _status(pid: int) -> dict[str, int]:
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1])  # kB
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                values["Pss"] = int(line.split()[1])  # kB: shared pages divided among the processes sharing them
    except OSError:
        pass
    return values


def _disk_read(pid: int) -> int:
    """Bytes ``pid`` made the kernel read from the disk (its page cache misses), so far."""
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("read_bytes:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, float, float, float, float, str, int]:
    """(seconds, CPU seconds, peak MB of the summed RSS, MB of the summed per-process peaks, peak MB of the
    summed PSS, MB read from the disk (not found in the page cache), output, exit code)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak_sum = peak_pss = 0
    hwm: dict[int, int] = {}
    disk: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_sum, peak_pss
        while not done.is_set():
            pids, seen = [proc.pid], []
            while pids:
                pid = pids.pop()
                seen.append(pid)
                pids += _children(pid)
            total = pss = 0
            for pid in seen:
                st = _status(pid)
                total += st.get("VmRSS", 0)
                pss += st.get("Pss", 0)
                hwm[pid] = max(hwm.get(pid, 0), st.get("VmHWM", 0))
                disk[pid] = max(disk.get(pid, 0), _disk_read(pid))
            peak_sum, peak_pss = max(peak_sum, total), max(peak_pss, pss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return (seconds, cpu, peak_sum / 1024, sum(hwm.values()) / 1024, peak_pss / 1024, sum(disk.values()) / 2**20,
            output, proc.returncode)


def append_events(url: str, audit_key: str, wanted: int, seed: int = 7) -> int:
    """``wanted`` new events through the real commands: claim and release open tasks (two events each)."""
    from sqlalchemy import select

    from webapp import create_app
    from workflows.branch.models import User, UserRole
    from workflows.cases import commands
    from workflows.cases.models import HumanTask, TaskCandidate
    from workflows.db import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "AUDIT_KEY": audit_key})
    made = 0
    rng = random.Random(seed)
    with app.app_context():
        tasks = list(db.session.execute(select(HumanTask.id, TaskCandidate.role_key)
                                        .join(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
                                        .where(HumanTask.state == "open", HumanTask.claimed_by_id.is_(None))
                                        .order_by(HumanTask.id)))
        rng.shuffle(tasks)
        holders: dict[str, list[int]] = {}
        working: list[tuple[int, User]] = []
        for task_id, role in tasks:
            if made >= wanted:
                break
            if role not in holders:
                holders[role] = list(db.session.scalars(select(UserRole.user_id).where(UserRole.role_key == role)))
            for user_id in holders[role][:5]:
                user = db.session.get(User, user_id)
                try:
                    commands.claim(task_id, user)
                    commands.release(task_id, user)
                except Exception:  # noqa: BLE001 - not this person's task (scope): try another
                    db.session.rollback()
                    continue
                made += 2
                working.append((task_id, user))
                break
        while made < wanted and working:  # more rounds on the same tasks (a busy case gets several)
            task_id, user = working[made // 2 % len(working)]
            commands.claim(task_id, user)
            commands.release(task_id, user)
            made += 2
        if made < wanted:
            raise SystemExit(f"only {made} events could be appended: no open task could be claimed")
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="database URL (a built database)")
    parser.add_argument("--audit-key", default=BENCH_AUDIT_KEY)
    parser.add_argument("--append", type=int, default=1000, help="new events before the incremental run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3,
                        help="full runs, and rounds of new events and an incremental run (the median is printed)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="verify-bench-")
    env = {**os.environ, "DATABASE_URL": args.url, "AUDIT_KEY": args.audit_key, "AUDIT_KEYS_OLD": "",
           "SECRET_KEY": "bench", "AUDIT_CHECKPOINT_DIR": folder}
    flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "ops"]  # the app without its pages, as cron runs it
    os.chdir(ROOT)
    # as deployed: the bytecode cached (with PYTHONDONTWRITEBYTECODE every command compiled the app again)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "webapp", "workflows", "wsgi.py"], check=True,
                   stdout=subprocess.DEVNULL)
    load = os.getloadavg()
    rows = []

    def step(name: str, extra: list[str]) -> str:
        before = os.getloadavg()[0]
        seconds, cpu, peak, hwm, pss, disk, out, code = run(flask + extra, env)
        found = re.search(r"checked \d+ case\(s\), (\d+) event\(s\)", out)
        events = int(found.group(1)) if found else 0
        rows.append((name, seconds, cpu, peak, hwm, pss, disk, code, events, before))
        print(f"--- {name}: {' '.join(extra)} (exit {code}, {seconds:.2f} s, CPU {cpu:.1f} s, peak RSS {peak:.0f} MB "
              f"summed, {hwm:.0f} MB sum of peaks, PSS {pss:.0f} MB, {disk:.0f} MB read from disk, "
              f"load {before:.1f})\n{out.strip()}\n", flush=True)
        return out

    step("root (startup floor)", ["audit", "root"])
    step("checkpoint", ["audit", "checkpoint"])
    for k in range(args.repeat):
        step(f"full verify #{k + 1}", ["audit", "verify", "--full", "--workers", str(args.workers)])
    for k in range(args.repeat):
        started = time.perf_counter()
        made = append_events(args.url, args.audit_key, args.append, seed=7 + k)
        print(f"appended {made} events in {time.perf_counter() - started:.1f} s\n")
        step("checkpoint", ["audit", "checkpoint"])
        step(f"incremental verify #{k + 1} (+{made} events)", ["audit", "verify", "--workers", str(args.workers)])
    step("incremental verify (nothing new)", ["audit", "verify", "--workers", str(args.workers)])
    floor = rows[0][2]  # the CPU seconds of starting the command (`audit root`)
    print(f"database: {args.url}")
    print(f"load average before: {load[0]:.1f}, after: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} cores)")
    print(f"{'command':<36} {'wall s':>8} {'CPU s':>7} {'events':>9} {'events/s':>9} {'CPU us/ev':>9} "
          f"{'peak RSS MB':>12} {'sum of peaks MB':>16} {'peak PSS MB':>12} {'disk MB':>8} {'load':>5} {'exit':>5}")
    for name, seconds, cpu, peak, hwm, pss, disk, code, events, before in rows:
        rate = f"{events / seconds:>9.0f}" if events else f"{'':>9}"
        per = f"{(cpu - floor) / events * 1e6:>9.1f}" if events else f"{'':>9}"
        print(f"{name:<36} {seconds:>8.2f} {cpu:>7.1f} {events:>9} {rate} {per} {peak:>12.0f} {hwm:>16.0f} "
              f"{pss:>12.0f} {disk:>8.0f} {before:>5.1f} {code:>5}")
    print("CPU us/ev: CPU seconds of the command, less the start-up floor (`audit root`), per event read; "
          "the wall time on a quiet machine is about that over the cores used, plus the floor.")
    print("disk MB: what the command's processes read from the disk, i.e. did not find in the page cache. A run "
          "that reads the database from the disk is bound by the disk's speed, not by verify's work.")
    for kind in ("full verify", "incremental verify #"):
        times = [row[1] for row in rows if row[0].startswith(kind)]
        print(f"{kind.rstrip(' #')}: median {statistics.median(times):.2f} s of {len(times)} runs "
              f"({', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
