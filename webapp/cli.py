"""Flask CLI commands for operations: deploy, sweep, seed, verify, users."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app

from workflows.branch import people
from workflows.branch.demo import DEMO_PASSWORD, ensure_roles, seed_demo
from workflows.cases import audit, definitions, timers
from workflows.engine.xml import DefinitionError
from workflows.errors import Invalid, NotFound


def register(app: Flask) -> None:
    @app.cli.group("processes")
    def processes() -> None:
        """Deploy and list process definitions."""

    @processes.command("deploy")
    @click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
    def deploy(paths: tuple[Path, ...]) -> None:
        """Deploy the library folder (default bpmn/) or given .bpmn files as new versions."""
        ensure_roles()
        targets = list(paths) or [Path(current_app.config["BPMN_LIBRARY"])]
        try:
            results = definitions.deploy_paths(targets)
        except DefinitionError as exc:
            raise click.ClickException(str(exc)) from None
        for r in results:
            state = "deployed" if r.created else "unchanged"
            click.echo(f"{r.definition.key} v{r.definition.version}: {state}")

    @processes.command("list")
    def list_processes() -> None:
        for d in definitions.latest_all():
            click.echo(f"{d.key} v{d.version} {d.name} ({d.deployed_at:%Y-%m-%d %H:%M})")

    @processes.command("functions")
    @click.option("--markdown", is_flag=True, help="The README block (between its functions markers).")
    def list_functions(markdown: bool) -> None:
        """The functions diagrams may call: the generic ones and each family's (generated, never hand-written)."""
        from workflows import processes as families

        click.echo(families.functions_markdown() if markdown else families.functions_text())

    @app.cli.group("jobs")
    def jobs_group() -> None:
        """The families' scheduled jobs (the sweeper runs them)."""

    @jobs_group.command("list")
    def list_jobs() -> None:
        from workflows.cases import jobs

        for job in jobs.declared():
            last = jobs.runs(job.key, 1)
            ran = f"last fired for {last[0].period} at {last[0].started_at:%Y-%m-%d %H:%M}" if last else "never fired"
            click.echo(f"{job.key:<32} {job.schedule:<10} {ran}")

    @jobs_group.command("run")
    def run_jobs() -> None:
        """Fire the jobs that are due and have not fired for their period (as the sweeper does)."""
        from workflows.cases import jobs

        fired = jobs.run_due()
        for job, period, result in fired:
            click.echo(f"{job} {period}: {result}")
        click.echo(f"{len(fired)} job(s) fired")

    @app.cli.group("workflows")
    def workflows_group() -> None:
        """Engine operations."""

    @workflows_group.command("sweep")
    @click.option("--loop", is_flag=True, help="Keep sweeping (a worker process).")
    @click.option("--interval", default=30.0, show_default=True, help="Seconds between sweeps with --loop.")
    def sweep(loop: bool, interval: float) -> None:
        """Fire due timers and due jobs, drop expired idempotency keys; with --loop also write an audit
        checkpoint every AUDIT_CHECKPOINT_INTERVAL seconds and run a full audit verify every
        AUDIT_VERIFY_INTERVAL seconds."""
        if loop:
            timers.loop(interval, current_app.config.get("AUDIT_CHECKPOINT_INTERVAL") or None,
                        current_app.config.get("AUDIT_VERIFY_INTERVAL") or None)
        else:
            from workflows import gate
            from workflows.cases import jobs

            click.echo(f"advanced {timers.sweep()} case(s)")
            click.echo(f"fired {len(jobs.run_due())} job(s)")
            click.echo(f"dropped {gate.sweep()} expired idempotency key(s) and rate window(s)")

    @app.cli.group("seed")
    def seed() -> None:
        """Demo data."""

    @seed.command("demo")
    @click.option("--no-cases", is_flag=True)
    def demo(no_cases: bool) -> None:
        """Create the demo branch (once) and print the demo logins."""
        logins = seed_demo(with_cases=not no_cases)
        click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, name, roles in logins:
            click.echo(f"  {username:<12} {name:<14} {roles}")

    @app.cli.group("calendar")
    def calendar_group() -> None:
        """The working-day calendar: public holidays and make-up working days."""

    @calendar_group.command("load")
    @click.argument("year", type=int)
    @click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                  help="A schedule file ({\"year\", \"days\": [...]} or a list of days); default: the bundled one.")
    def calendar_load(year: int, path: Path | None) -> None:
        """Replace a year's exceptions with a schedule file (recorded as a change via cli)."""
        from workflows.branch import calendar_admin

        try:
            change = calendar_admin.load_schedule(year, path)
        except (Invalid, NotFound) as exc:
            lines = [str(exc.message)] + [f"  {key}: {value}" for key, value in exc.fields.items()]
            raise click.ClickException("\n".join(lines)) from None
        if change is None:
            click.echo(f"{year}: nothing changed")
        else:
            days = calendar_admin.year_entries(year)
            holidays = sum(1 for d in days if not d.working)
            click.echo(f"{year}: {holidays} weekday holidays, {len(days) - holidays} make-up working days; "
                       f"{sum(calendar_admin.month_counts(year))} working days in the year")

    @app.cli.group("audit")
    def audit_group() -> None:
        """Audit trail."""

    @audit_group.command("verify")
    @click.option("--case", "case_id", type=int, default=None)
    @click.option("--full", is_flag=True, help="Read every case, not only those whose head moved since the latest "
                  "verified checkpoint.")
    @click.option("--no-checkpoint", is_flag=True, help="Do not compare with the checkpoints (implies --full).")
    @click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True,
                  help="Processes reading cases at once.")
    @click.option("--no-record", is_flag=True, help="Do not write a verified checkpoint after a clean run.")
    def verify(case_id: int | None, full: bool, no_checkpoint: bool, workers: int, no_record: bool) -> None:
        """Check chains, seals, the checkpoints and the tables; exit 1 on any discrepancy.

        By default only the cases whose head moved since the latest verified checkpoint are read
        (README, "Audit trail"); a clean run writes a verified checkpoint for the next one."""
        from workflows.cases import integrity

        try:
            report = integrity.check(case_id, use_checkpoint=not no_checkpoint, full=full or no_checkpoint,
                                     workers=workers, record=not no_record)
        except audit.AuditKeyMissing as exc:
            raise click.ClickException(str(exc)) from None
        for line in verify_lines(report, no_checkpoint):
            click.echo(line)
        if report.problem_count:
            raise SystemExit(1)

    @audit_group.command("checkpoint")
    def checkpoint() -> None:
        """Append a signed checkpoint of every case's head to the checkpoint store."""
        from workflows.cases import checkpoints

        try:
            cp = checkpoints.write()
        except audit.AuditKeyMissing as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"checkpoint {cp.at}: {cp.cases} case(s), root {cp.root} "
                   f"({Path(current_app.config['AUDIT_CHECKPOINT_DIR']) / checkpoints.LOG_NAME})")

    @audit_group.command("root")
    def root() -> None:
        """Print the latest checkpoint's time, case count and Merkle root (keep it off-site)."""
        from workflows.cases import checkpoints

        cp = checkpoints.latest()
        if cp is None:
            raise click.ClickException("no checkpoint has been written yet (flask audit checkpoint)")
        click.echo(f"{cp.at} {cp.cases} {cp.root}")

    @audit_group.command("reseal")
    @click.option("--legacy", is_flag=True, required=True, help="Seal histories written before keyed chains.")
    def reseal(legacy: bool) -> None:
        """Once after upgrading: pin every legacy (unkeyed) history under the audit key."""
        from workflows.cases import integrity

        try:
            sealed, refused = integrity.reseal_legacy()
        except audit.AuditKeyMissing as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"sealed {sealed} legacy case history(ies)")
        for p in refused:
            click.echo(f"not sealed, case {p.instance_id}: {p.message}")
        if refused:
            raise SystemExit(1)

    @app.cli.group("tokens")
    def tokens_group() -> None:
        """Personal API tokens."""

    def _user(username: str) -> Any:
        try:
            return people.by_username(username)
        except NotFound:
            raise click.ClickException("no such user") from None

    @tokens_group.command("issue")
    @click.argument("username")
    @click.option("--name", default="cli", show_default=True)
    @click.option("--days", type=int, default=None, help="Expire after this many days (default: never).")
    def issue_token(username: str, name: str, days: int | None) -> None:
        """Issue a token and print it (it is shown only this once)."""
        from workflows.branch import tokens

        try:
            clear, token = tokens.issue(_user(username), name, days)
        except Invalid as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"token {token.id} for {username}: {clear}")

    @tokens_group.command("list")
    @click.argument("username")
    def list_tokens(username: str) -> None:
        from workflows.branch import tokens

        for t in tokens.for_user(_user(username)):
            state = "revoked" if t.revoked_at else ("expires " + t.expires_at.isoformat() if t.expires_at else "active")
            click.echo(f"{t.id:>5} {t.prefix}…  {t.name:<20} {state}")

    @tokens_group.command("revoke")
    @click.argument("token_id", type=int)
    def revoke_token(token_id: int) -> None:
        from workflows.branch import tokens

        try:
            tokens.revoke(token_id)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"token {token_id} revoked")

    @app.cli.group("users")
    def users() -> None:
        """User accounts."""

    @users.command("set-password")
    @click.argument("username")
    @click.password_option()
    def set_password(username: str, password: str) -> None:
        """Set a user's password (the same rule as the admin page: at least 8 characters)."""
        try:
            people.set_password(username, password)
        except (Invalid, NotFound) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo("password changed")


def verify_lines(report: Any, no_checkpoint: bool = False) -> list[str]:
    """What `flask audit verify` prints: what was checked, how, against what, and the first problem of each kind."""
    lines = [f"checked {report.cases} case(s), {report.events} event(s), {report.tasks} task(s), "
             f"{report.registry} registry entr(ies), {report.attachments} attachment(s)"]
    lines.append(mode_line(report))
    ring = audit.keyring()
    lines.append(f"keys: signing {ring.current_id}; verifying {', '.join(sorted(ring.keys)) or 'none'}")
    cp = report.checkpoint
    if cp is not None:
        lines.append(f"checkpoint: {cp.at}, {cp.cases} case(s), root {cp.root}")
    elif no_checkpoint:
        lines.append("checkpoint: not used (--no-checkpoint)")
    else:
        lines.append("checkpoint: none")
    if report.recorded is not None:
        lines.append(f"verified checkpoint written: {report.recorded.at}, {report.recorded.cases} case(s), "
                     f"root {report.recorded.root}")
    if report.legacy_events:
        lines.append(f"legacy unkeyed events: {report.legacy_events}")
    if not report.problem_count:
        lines.append("audit trail intact")
        return lines
    lines.append(f"{report.problem_count} discrepanc(ies); the first of each kind:")
    for problem, count in report.first_of_each_kind():
        where = f"case {problem.instance_id}: " if problem.instance_id is not None else ""
        lines.append(f"  [{problem.kind}] ({count}) {where}{problem.message}")
    return lines


def mode_line(report: Any) -> str:
    """Which kind of run it was and what it covered."""
    by = f" ({report.workers} processes)" if report.workers > 1 else ""
    by += f", in {report.seconds:.1f} s"
    if report.mode == "case":
        return "mode: one case"
    if report.mode == "incremental":
        base = report.baseline
        return (f"mode: incremental from the verified checkpoint of {base.at}: read {report.cases} case(s) whose "
                f"head moved or that are new{by}; {report.unchanged} unchanged case(s) matched their verified "
                "heads and were not re-read (run with --full to read them)")
    why = f" ({report.fallback})" if report.fallback else ""
    return f"mode: full, every case read{by}{why}"
