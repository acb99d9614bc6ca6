"""Command-line tools: ``flask seed demo``."""
from __future__ import annotations

import json
from dataclasses import asdict

import click
import pyotp
from flask import current_app
from flask.cli import AppGroup

from .database import db
from .people.seed import seed_demo
from .time import now

seed_cli = AppGroup("seed", help="Load data.")


@seed_cli.command("demo")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the logins here.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
def seed_demo_command(json_path: str | None, quiet: bool) -> None:
    """Build the demo district (idempotent) and print its logins."""
    settings = current_app.config["SETTINGS"]
    if settings.ENV == "production":
        raise click.ClickException("refusing to seed demo data in production")
    logins = seed_demo(db.session, settings, current_app.extensions["correction.hasher"], now())
    db.session.commit()
    if json_path:
        with open(json_path, "w", encoding="utf-8") as handle:
            json.dump(asdict(logins), handle, ensure_ascii=False, indent=1)
    if quiet:
        return
    click.echo("Demo officers (TOTP: add the secret to an authenticator app; current code shown):")
    for o in logins.officers:
        code = pyotp.TOTP(o["totp_secret"]).now()
        click.echo(f"  {o['username']:<22} {o['role']:<10} password {o['password']}  "
                   f"totp_secret {o['totp_secret']}  code now {code}")
    click.echo(f"Demo supervisees: {len(logins.supervisees)}; all use password "
               f"{logins.supervisees[0]['password'] if logins.supervisees else '-'}, for example:")
    for p in logins.supervisees[:3]:
        click.echo(f"  phone {p['phone']}  device_id {p['device_id']}  level {p['level']}")
    if json_path:
        click.echo(f"All logins written to {json_path}")
