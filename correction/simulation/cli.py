"""`flask demo simulate`: play a week in the demo district and print the scorecard."""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="The demo district.")


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
    from .run import SimConfig, simulate

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


def render(card: dict) -> str:
    lines = [
        f"Scorecard — {card['supervisees']} supervisees, {card['days']} days, seed {card['seed']}",
        f"  behaviours: {json.dumps(card['behaviours'], ensure_ascii=False)}",
        f"  recall    {card['recall']:.2%}  ({card['breaches_caught']}/{card['breaches_planted']} planted breaches caught;"
        f" target 100%)",
        f"  precision {card['precision']:.2%}  ({card['alerts_justified']}/{card['alerts_raised']} alerts justified;"
        f" target >= 99%)",
        f"  breach → alert: median {card['minutes_breach_to_alert']['median']} min,"
        f" worst {card['minutes_breach_to_alert']['worst']} min",
        f"  server errors (5xx): {card['server_errors']}   valid check-ins refused: {card['valid_checkins_refused']}",
        f"  throughput: {card['throughput']['fixes_per_second']} fixes/s,"
        f" {card['throughput']['checkins_per_second']} check-ins/s (client-measured, incl. HTTP)",
        "  by type: " + ", ".join(f"{t} {v['caught']}/{v['planted']}" for t, v in sorted(card["by_type"].items())),
    ]
    return "\n".join(lines)
