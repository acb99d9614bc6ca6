"""`flask admin create-bureau` and `flask admin create-admin`: the first bureau and admin of a deployment."""
from __future__ import annotations

import io
import re
import sys

import click
import qrcode
from flask import current_app
from flask.cli import AppGroup

from ..auth.enrolment import provisioning_uri
from ..database import db
from ..errors import DomainError
from ..time import now
from . import bureaus

admin_cli = AppGroup("admin", help="The first bureau and its administrator.")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{2,59}$")


def _pattern(regex: re.Pattern, what: str):
    def check(_ctx, _param, value: str) -> str:
        if not regex.match(value):
            raise click.BadParameter(f"{what}: letters, digits, '_', '.', '-'")
        return value
    return check


def _name(_ctx, _param, value: str) -> str:
    value = value.strip()
    if not value or len(value) > 100 or not value.isprintable():
        raise click.BadParameter("1 to 100 printable characters")
    return value


@admin_cli.command("create-bureau")
@click.option("--code", required=True, callback=_pattern(_CODE, "a code of up to 40 characters"))
@click.option("--name", required=True, callback=_name)
def create_bureau_command(code: str, name: str) -> None:
    """Create a bureau (a second one with the same code is refused)."""
    try:
        bureau = bureaus.create_bureau(db.session, code=code, name=name)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    click.echo(f"created bureau {bureau.code} ({bureau.name}), id {bureau.id}")


@admin_cli.command("create-admin")
@click.option("--bureau", "bureau_code", required=True, help="The bureau's code.")
@click.option("--username", required=True, callback=_pattern(_USERNAME, "3 to 60 characters"))
@click.option("--name", required=True, callback=_name)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def create_admin_command(bureau_code: str, username: str, name: str, password_stdin: bool) -> None:
    """Create an admin of the bureau and show their TOTP secret once, to enrol now."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = current_app.config["SETTINGS"]
    try:
        admin = bureaus.create_console_admin(db.session, settings, current_app.extensions["correction.hasher"],
                                             bureau_code=bureau_code, username=username, name=name,
                                             password=password, now=now())
        uri = provisioning_uri(settings, admin)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    click.echo(f"created admin {admin.username} of bureau {bureau_code}")
    click.echo("Scan this code with an authenticator app now; it is not shown again. Logins need its codes.")
    click.echo(uri)
    click.echo(_ascii_qr(uri))


def _ascii_qr(text: str) -> str:
    """Return a QR code of ``text`` drawn in characters, for a terminal."""
    code = qrcode.QRCode(border=2)
    code.add_data(text)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()
