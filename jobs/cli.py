"""`flask jobs run` (the scheduler process) and `flask jobs once ID` (run one job now)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .runner import run_forever, run_job
from .schedule import schedule

jobs_cli = AppGroup("jobs", help="The scheduler.")


@jobs_cli.command("run")
def run_command() -> None:
    """Run the schedule (as leader, or as a standby until the leader goes away)."""
    click.echo("scheduler: waiting for the leader lock (a second copy stands by)")
    run_forever(current_app._get_current_object())


@jobs_cli.command("once")
@click.argument("job_id")
def once_command(job_id: str) -> None:
    """Run one job now and print what it did."""
    specs = {s.id: s for s in schedule(current_app.config["SETTINGS"])}
    if job_id not in specs:
        raise click.ClickException(f"unknown job {job_id!r}; known: {', '.join(sorted(specs))}")
    run = run_job(current_app._get_current_object(), specs[job_id])
    if run is None or not run.ok:
        raise click.ClickException(f"{job_id} failed: {run.error if run else 'could not record the run'}")
    click.echo(f"{job_id}: {run.rows} rows in {run.duration_ms} ms")
