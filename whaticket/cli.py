"""CLI: flask seed, create-superuser, worker, inbound retry, reports rebuild, purge, status,
import-whaticket."""

from __future__ import annotations

import json
from datetime import timedelta

import click
import sqlalchemy as sa
from flask import Flask, current_app

from whaticket import db as dbmod
from whaticket import startup
from whaticket.config import DEFAULT_ADMIN_PASSWORD
from whaticket.extensions import db
from whaticket.importer import command as import_command
from whaticket.jobs import retention as retention_jobs
from whaticket.jobs.worker import run_worker
from whaticket.models import Company, Plan, User, Whatsapp
from whaticket.ops import status as ops_status
from whaticket.ops.status_table import render as render_status
from whaticket.security import hash_password
from whaticket.services.inbound import deliveries as inbound_events
from whaticket.services.reports.rebuild import rebuild
from whaticket.services.team import settings as settings_service
from whaticket.services.team import users as user_service

DEFAULT_PLAN = {
    "name": "Plano 1",
    "users": 10,
    "connections": 10,
    "queues": 10,
    "value": 30,
}
DEFAULT_COMPANY = "Empresa 1"


def seed_database() -> list[str]:
    """Create the default plan, company and super admin if missing; return what was created."""
    created: list[str] = []
    plan = db.session.scalar(sa.select(Plan).order_by(Plan.id).limit(1))
    if plan is None:
        plan = Plan(**DEFAULT_PLAN)
        db.session.add(plan)
        db.session.flush()
        created.append(f"plan {plan.name!r}")
    company = db.session.scalar(sa.select(Company).order_by(Company.id).limit(1))
    if company is None:
        company = Company(
            name=DEFAULT_COMPANY,
            plan_id=plan.id,
            status=True,
            recurrence="MENSAL",
            due_date=dbmod.utcnow() + timedelta(days=3650),
        )
        db.session.add(company)
        db.session.flush()
        created.append(f"company {company.name!r}")
    if settings_service.create_defaults(company.id):
        created.append("default settings")
    if _seed_fake_connection(company.id):
        created.append("default fake connection 'WhatsApp'")
    email = current_app.config["ADMIN_EMAIL"].strip().lower()
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is None:
        if (
            current_app.config.get("APP_ENV") == "production"
            and current_app.config["ADMIN_PASSWORD"] == DEFAULT_ADMIN_PASSWORD
        ):
            # A public password on a super admin of a live install (the server would then
            # refuse to start anyway): nothing is seeded.
            dbmod.rollback()
            raise click.ClickException(
                f"refusing to create the super admin {email} with the default password in "
                "production: set ADMIN_PASSWORD (or create it with `create-superuser`)"
            )
        db.session.add(
            User(
                company_id=company.id,
                name="Admin",
                email=email,
                password_hash=hash_password(current_app.config["ADMIN_PASSWORD"]),
                profile="admin",
                super=True,
            )
        )
        created.append(f"super admin {email}")
    dbmod.commit()
    return created


def _seed_fake_connection(company_id: int) -> bool:
    """Give a company with no connection a default `fake` one, so the product works at once."""
    exists = db.session.scalar(
        sa.select(Whatsapp.id).where(Whatsapp.company_id == company_id).limit(1)
    )
    if exists is not None:
        return False
    db.session.add(
        Whatsapp(
            company_id=company_id,
            name="WhatsApp",
            provider="fake",
            # The fake has no QR code to scan: it is connected from the start.
            status="CONNECTED",
            is_default=True,
        )
    )
    db.session.flush()
    return True


def register_commands(app: Flask) -> None:
    """Attach the commands to `app.cli`."""
    import_command.register(app)

    @app.cli.command("seed")
    def seed() -> None:
        """Create the default plan, company and super admin (safe to run again)."""
        created = seed_database()
        click.echo("seeded: " + ", ".join(created) if created else "seed: nothing to do")
        if current_app.config["ADMIN_PASSWORD"] == DEFAULT_ADMIN_PASSWORD:
            click.echo(
                f"WARNING: the super admin {current_app.config['ADMIN_EMAIL']} uses the default "
                "password 123456; set ADMIN_PASSWORD or change it after the first login.",
                err=True,
            )

    @app.cli.command("create-superuser")
    @click.option("--email", prompt=True)
    @click.option("--name", default="Admin", show_default=True)
    @click.option("--company-id", type=int, default=None, help="Defaults to the first company.")
    @click.password_option()
    def create_superuser(email: str, name: str, company_id: int | None, password: str) -> None:
        """Create a super admin, or promote an existing user and reset their password."""
        email = email.strip().lower()
        if len(password) < 5:
            raise click.ClickException("password must have at least 5 characters")
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            cid = company_id or db.session.scalar(
                sa.select(Company.id).order_by(Company.id).limit(1)
            )
            if cid is None:
                raise click.ClickException("no company yet: run `flask seed` first")
            user = User(company_id=cid, name=name, email=email, password_hash="")
            db.session.add(user)
        user.password_hash = hash_password(password)
        user.profile = "admin"
        user.super = True
        if user.id is not None:
            # An existing account's sessions end: tokens refused, open sockets disconnected.
            user_service.end_sessions(user)
        dbmod.commit()
        click.echo(f"super user {email} ready (company {user.company_id})")

    @app.cli.group("inbound")
    def inbound() -> None:
        """Stored webhook deliveries."""

    @inbound.command("retry")
    @click.option("--company-id", type=int, default=None)
    def inbound_retry(company_id: int | None) -> None:
        """Queue every failed webhook delivery again."""
        count = inbound_events.retry_failed(company_id)
        dbmod.commit()
        click.echo(f"queued {count} failed inbound event(s) again")

    @app.cli.group("reports")
    def reports() -> None:
        """Reporting events."""

    @reports.command("rebuild")
    @click.option("--company-id", type=int, default=None, help="Defaults to every company.")
    def reports_rebuild(company_id: int | None) -> None:
        """Replay the reporting events of existing tickets from their history."""
        written = rebuild(company_id, on_batch=dbmod.commit)
        dbmod.commit()
        click.echo(f"{written} reporting events written")

    @app.cli.command("purge")
    @click.option("--dry-run", is_flag=True, help="Count what would go; delete nothing.")
    def purge(dry_run: bool) -> None:
        """Delete old webhook deliveries, dead refresh tokens, finished imports and media
        files no row references (the RETENTION_* settings), in batches."""
        report = retention_jobs.purge(dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        click.echo(
            f"{verb}: {report['inbound_events']} inbound event(s), "
            f"{report['refresh_tokens']} refresh token(s), {report['imports']} import(s), "
            f"{report['files']} orphan media file(s)"
        )

    @app.cli.command("status")
    @click.option("--json", "as_json", is_flag=True, help="The GET /admin/status body instead.")
    def status(as_json: bool) -> None:
        """Print every company's connections, inbound backlog, campaigns, failures, workers."""
        snapshot = ops_status.snapshot()
        dbmod.rollback()  # read only
        click.echo(json.dumps(snapshot, indent=2) if as_json else render_status(snapshot))

    @app.cli.command("worker")
    @click.option("--queues", "-q", default="high,default,low", show_default=True)
    @click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
    @click.option("--no-cron", is_flag=True, help="Do not run the periodic sweeps here.")
    def worker(queues: str, burst: bool, no_cron: bool) -> None:
        """Run an RQ worker (with its scheduler and the periodic sweeps)."""
        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException(
                "REDIS_URL is not set: without Redis the web process runs jobs itself"
            )
        try:
            startup.check_admin_password(current_app._get_current_object())  # type: ignore[attr-defined]
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from exc
        run_worker(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            [q.strip() for q in queues.split(",") if q.strip()],
            burst=burst,
            with_cron=not no_cron,
        )
