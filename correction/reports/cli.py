"""`flask report weekly --week 2026-W47 [--office N] [--format pdf] [--out FILE]`."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from ..database import db
from ..people.models import Bureau, Office
from ..time import now
from . import service
from .api import respond
from .weeks import last_complete_week, parse_week

report_cli = AppGroup("report", help="Compliance reports.")


@report_cli.command("weekly")
@click.option("--week", help="ISO week like 2026-W47 (default: the last complete week).")
@click.option("--office", "office_id", type=int, help="Office id (default: the whole bureau).")
@click.option("--bureau", "bureau_id", type=int, help="Bureau id (default: the office's, or the first).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx", "pdf"]), default="pdf")
@click.option("--out", type=click.Path(dir_okay=False), help="File to write (default: weekly-WEEK.FORMAT).")
def weekly_command(week, office_id, bureau_id, fmt, out) -> None:
    """Build one weekly report now (and store it if the week has ended)."""
    settings = current_app.config["SETTINGS"]
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    try:
        chosen = parse_week(week, zone) if week else last_complete_week(now(), zone)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--week") from None
    if office_id is not None:
        office = db.session.get(Office, office_id)
        if office is None:
            raise click.BadParameter("no such office", param_hint="--office")
        bureau_id = office.bureau_id
    bureau_id = bureau_id or db.session.execute(sa.select(sa.func.min(Bureau.id))).scalar()
    if bureau_id is None:
        raise click.ClickException("no bureau in the database; run `flask seed demo` first")
    steps = ["supervisees", "alerts", "daily series", "eight-week trend"]
    with click.progressbar(length=len(steps) + 1, label=f"weekly report {chosen.label}") as bar:
        at = now()
        report = service.build_report(db.session, settings, bureau_id=bureau_id, office_id=office_id, week=chosen,
                                      now=at, progress=lambda _label: bar.update(1))
        if not report["provisional"]:
            service.store(db.session, report, bureau_id=bureau_id, office_id=office_id, now=at)
        db.session.commit()
        data = respond(report, fmt, settings).get_data()
        bar.update(1)
    path = out or f"weekly-{chosen.label}.{fmt}"
    with open(path, "wb") as handle:
        handle.write(data)
    flag = " (provisional: the week has not ended)" if report["provisional"] else ""
    click.echo(f"wrote {path}: {report['totals']['supervisees']} supervisees{flag}")
