"""Tools' commands: ``flask seed demo`` and ``flask demo simulate``, added to the app by ``wsgi.py``.

Only the command definitions live here; each command imports its tool when it runs, so a serving
process that loads this module loads no seed, simulation or benchmark code.
"""
from __future__ import annotations

import json
from dataclasses import asdict

import click
import pyotp
from flask import current_app
from flask.cli import AppGroup

from ..database import db
from ..time import now

seed_cli = AppGroup("seed", help="Load data.")
demo_cli = AppGroup("demo", help="The demo district.")


def register(app) -> None:
    """Add the tools' commands to ``app``'s CLI."""
    app.cli.add_command(seed_cli)
    app.cli.add_command(demo_cli)


@seed_cli.command("demo")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the logins here.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
def seed_demo_command(json_path: str | None, quiet: bool) -> None:
    """Build the demo district (idempotent) and print its logins."""
    from .seed import seed_demo

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


@demo_cli.command("simulate")
@click.option("--days", type=click.IntRange(1, 28), default=7, show_default=True)
@click.option("--supervisees", type=click.IntRange(5, 5000), default=421, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", "out_dir", default="instance/simulation", show_default=True,
              help="Folder for the fresh database, the scorecard and the report.")
@click.option("--database-url", default=None, help="Run on this (empty) database instead of a fresh SQLite file.")
@click.option("--fast-hashing", is_flag=True, help="Cheap password hashing (tests).")
def simulate_command(days, supervisees, seed, out_dir, database_url, fast_hashing) -> None:
    """Simulate DAYS of supervision through the HTTP API and score whether anyone slipped."""
    from .simulation.run import SimConfig, simulate
    from .simulation.score import render

    if current_app.config["SETTINGS"].ENV == "production":
        raise click.ClickException("the simulation drives the clock; it is refused in production")
    config = SimConfig(days=days, supervisees=supervisees, seed=seed, database_url=database_url,
                       out_dir=out_dir, fast_hashing=fast_hashing)
    with click.progressbar(length=days, label="simulated days") as bar:
        card = simulate(config, progress=bar.update)
    click.echo(render(card))
    click.echo(f"scorecard: {out_dir}/scorecard.json   report: {card['report_pdf']}")
    if card["recall"] < 1.0 or card["precision"] < 0.99 or card["server_errors"]:
        raise SystemExit(1)
