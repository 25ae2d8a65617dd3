"""The `thinkfamily` command: database, users, deployment, server, timer worker, demo data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from api.common.context import base_context
from api.demo import demo_data_command
from api.notify_cli import notify_command
from api.worker import worker_command
from domain import errors
from domain.context import Context
from domain.db import unit_of_work
from domain.lanes import ROLES


def _create_app() -> Flask:
    from api.app import create_app

    return create_app()


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False
)
def main() -> None:
    """ThinkFamily: multi-agency safeguarding process orchestrator."""


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True)
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(sorted(ROLES)))
@click.option("--agency", required=True, help="Agency code")
@click.option("--name", "display_name", default=None)
@click.option("--email", default=None)
@with_appcontext
def create_user_command(
    username: str,
    password: str,
    roles: tuple[str, ...],
    agency: str,
    display_name: str | None,
    email: str | None,
) -> None:
    """Create a user in an agency with one or more roles."""
    from domain.users import service as users

    ctx = base_context(None)
    try:
        with unit_of_work(ctx.session):
            users.create_user(
                ctx,
                username=username,
                password=password,
                roles=roles,
                agency_code=agency,
                display_name=display_name,
                email=email,
            )
    except errors.DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Created user {username}.")


@click.command("set-password")
@click.option("--username", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def set_password_command(username: str, password: str) -> None:
    """Give a user a new password; it signs them out everywhere."""
    from domain.users import service as users

    _user_change(lambda ctx: users.set_password(ctx, username=username, password=password))
    click.echo(f"Set a new password for {username}; their sessions and tokens have ended.")


@click.command("deactivate-user")
@click.option("--username", required=True)
@with_appcontext
def deactivate_user_command(username: str) -> None:
    """Stop a user signing in (a leaver, say), ending their sessions and tokens at once."""
    from domain.users import service as users

    _user_change(lambda ctx: users.set_active(ctx, username=username, active=False))
    click.echo(f"Deactivated {username}; their sessions and tokens have ended.")


@click.command("reactivate-user")
@click.option("--username", required=True)
@with_appcontext
def reactivate_user_command(username: str) -> None:
    """Let a deactivated user sign in again."""
    from domain.users import service as users

    _user_change(lambda ctx: users.set_active(ctx, username=username, active=True))
    click.echo(f"Reactivated {username}.")


def _user_change(change: Callable[[Context], object]) -> None:
    ctx = base_context(None)
    try:
        with unit_of_work(ctx.session):
            change(ctx)
    except errors.DomainError as exc:
        raise click.ClickException(exc.detail) from exc


@click.command("create-agency")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--kind", required=True)
@click.option("--email", default=None, help="Notification address")
@with_appcontext
def create_agency_command(code: str, name: str, kind: str, email: str | None) -> None:
    """Add an agency to the partnership."""
    from domain.agencies import service as agencies

    ctx = base_context(None)
    try:
        with unit_of_work(ctx.session):
            agencies.create_agency(ctx, code=code, name=name, kind=kind, notification_email=email)
    except errors.DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Created agency {code}.")


@click.command("deploy")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--forms", "forms_dir", type=click.Path(file_okay=False, path_type=Path), default=None
)
@with_appcontext
def deploy_command(folder: Path, forms_dir: Path | None) -> None:
    """Deploy every BPMN file in FOLDER (with the forms they name) as new versions."""
    from domain.processes import definitions
    from domain.processes.bundles import bundles_from_folder

    ctx = base_context(None)
    failed = False
    for bundle in bundles_from_folder(folder, forms_dir):
        try:
            with unit_of_work(ctx.session):
                version, created = definitions.deploy(
                    ctx, key=bundle.key, bpmn_files=bundle.bpmn, forms=bundle.forms
                )
                state = "deployed" if created else "unchanged"
                click.echo(f"{bundle.key}: version {version.number} {state}")
        except errors.ProcessDefinitionError as exc:
            failed = True
            click.echo(f"{bundle.key}: refused", err=True)
            for problem in exc.problems:
                where = problem.get("element_id") or problem.get("file") or "-"
                click.echo(
                    f"  {where} (line {problem.get('line')}): {problem['message']}", err=True
                )
    if failed:
        raise click.ClickException("Some processes were refused.")


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--threads", default=8, type=int, help="Worker threads of the WSGI server")
@with_appcontext
def serve_command(host: str, port: int, threads: int) -> None:
    """Serve the API and pages with the waitress WSGI server."""
    from flask import current_app
    from waitress import serve

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"ThinkFamily serving on http://{host}:{port}/")
    serve(app, host=host, port=port, threads=threads, ident="ThinkFamily")


def register_cli(app: Flask) -> None:
    """Attach the commands to the app (so `flask --app api.app` has them too)."""
    for command in (
        create_user_command,
        set_password_command,
        deactivate_user_command,
        reactivate_user_command,
        create_agency_command,
        deploy_command,
        serve_command,
        notify_command,
        worker_command,
        demo_data_command,
    ):
        app.cli.add_command(command)
    from flask_migrate.cli import db as db_group

    app.cli.add_command(db_group)


main.add_command(create_user_command)
main.add_command(set_password_command)
main.add_command(deactivate_user_command)
main.add_command(reactivate_user_command)
main.add_command(create_agency_command)
main.add_command(deploy_command)
main.add_command(serve_command)
main.add_command(notify_command)
main.add_command(worker_command)
main.add_command(demo_data_command)
main.add_command(__import__("flask_migrate.cli", fromlist=["db"]).db)
