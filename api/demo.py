"""`thinkfamily demo-data`: load demo agencies, users, families and processes (demo only)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from api.common.context import base_context, services
from domain import errors
from domain.db import unit_of_work


@click.command("demo-data")
@with_appcontext
def demo_data_command() -> None:
    """Load demo data (idempotent). DEMO ONLY: every demo user's password is demo-password-1."""
    from domain import demo

    settings = services()["settings"]
    steps = demo.demo_steps(
        workflows_dir=Path(settings["WORKFLOWS_DIR"]), forms_dir=Path(settings["FORMS_DIR"])
    )
    ctx = base_context(None)
    failed = False
    for step in steps:
        try:
            with unit_of_work(ctx.session):
                message = step.run(ctx)
        except Exception as exc:  # report by type only (no data) and carry on
            detail = exc.detail if isinstance(exc, errors.DomainError) else type(exc).__name__
            click.echo(f"{step.name}: skipped ({detail})", err=True)
            failed = failed or not step.optional
            continue
        click.echo(f"{step.name}: {message}")
    if failed:
        raise click.ClickException("Some demo data could not be loaded.")
    click.echo(f"Demo users sign in with the password {demo.DEMO_PASSWORD} (demo only).")
