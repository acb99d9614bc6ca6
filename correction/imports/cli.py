"""`flask people import FILE --office CODE [--commit] [--as USERNAME]`: the import, from a shell."""
from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from ..audit.service import record
from ..database import db
from ..errors import DomainError
from ..people.access import Principal
from ..people.models import Office, Officer
from ..time import now
from . import service

people_cli = AppGroup("people", help="Supervisees in bulk.")


@people_cli.command("import")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--office", "office_code", required=True, help="Code of the office to enrol into.")
@click.option("--commit", is_flag=True, help="Enrol every row, or none if any is refused (default: a dry run).")
@click.option("--as", "username", help="Import as this officer (their scope; blank 责任人 cells become them).")
def import_command(path: Path, office_code: str, commit: bool, username: str | None) -> None:
    """Check a provincial spreadsheet (XLSX or CSV) and, with --commit, enrol its supervisees."""
    settings = current_app.config["SETTINGS"]
    session = db.session
    office = session.execute(sa.select(Office).where(Office.code == office_code)).scalar_one_or_none()
    if office is None:
        raise click.BadParameter("no such office", param_hint="--office")
    principal = _principal(session, office, username)
    data = path.read_bytes()
    at = now()
    try:
        report = service.import_supervisees(session, settings, principal, office_id=office.id, data=data,
                                            dry_run=not commit, now=at)
    except DomainError as error:
        session.rollback()
        raise click.ClickException(f"{error.code}: {error.message} {error.details or ''}".rstrip()) from None
    refused = commit and report.refused > 0
    if refused:
        session.rollback()
    record(session, at=at, action="supervisee.import", outcome="import_refused" if refused else "ok",
           actor_type="officer" if username else "system", actor_id=principal.id if username else None,
           actor_label=principal.label, bureau_id=office.bureau_id, target_type="office", target_id=office.id,
           details={**report.audit_details(), "via": "cli"})
    session.commit()
    _print(report)
    if refused:
        raise click.ClickException("rows were refused; nothing was written")


def _principal(session, office: Office, username: str | None) -> Principal:
    """The importer: the officer named, or the deployment itself acting bureau-wide."""
    if username is None:
        return Principal("officer", 0, office.bureau_id, None, "admin", 0, "flask people import")
    officer = session.execute(sa.select(Officer).where(Officer.username == username, Officer.active)
                              ).scalar_one_or_none()
    if officer is None:
        raise click.BadParameter("no such active officer", param_hint="--as")
    if officer.bureau_id != office.bureau_id or (officer.role == "officer" and officer.office_id != office.id):
        raise click.BadParameter("the office is outside this officer's scope", param_hint="--as")
    return Principal("officer", officer.id, officer.bureau_id, officer.office_id, officer.role, 0, officer.username)


def _print(report: service.ImportReport) -> None:
    refused = not report.dry_run and report.refused > 0
    mode = "dry run" if report.dry_run else ("nothing written" if refused else "written")
    click.echo(f"{report.file_type} sha256={report.sha256} ({mode}): {report.rows} rows, {report.created} "
               f"{'to create' if report.dry_run or refused else 'created'}, {report.unchanged} unchanged, "
               f"{report.refused} refused")
    if report.ignored_columns:
        click.echo("ignored columns: " + ", ".join(report.ignored_columns))
    for problem in report.problems:
        click.echo(f"row {problem.row}, {problem.column}: {problem.code}: {problem.message}")
    if report.problems_truncated:
        click.echo(f"... {report.problems_total - len(report.problems)} more problems not listed")
