import click
from sqlalchemy import select

from app.core.db import db
from app.core.transaction import unit_of_work
from app.policies import replay as replay_mod
from app.policies.models import Scheme
from app.policies.rates import seed_reference_rates
from app.jobs.cli import register_jobs
from app.workflow import engine


def register(app):
    @app.cli.group("zx")
    def zx():
        """zengxin administration."""

    register_jobs(zx)

    @zx.command("init-db")
    def init_db():
        """Create the schema (migrations), reference data, and deploy the BPMN files."""
        from flask_migrate import upgrade
        upgrade()
        _upgrade_engine_state()
        _reference()
        click.echo("database ready")

    @zx.command("upgrade-engine-state")
    def upgrade_engine_state():
        """Migrate stored workflow states to the installed SpiffWorkflow's format (init-db runs it)."""
        _upgrade_engine_state()

    @zx.command("deploy")
    def deploy():
        """Deploy every BPMN file in bpmn/: each is checked and deployed or refused on its own; a file
        identical to an older version makes that version current again."""
        with unit_of_work():
            report = engine.deploy_directory()
        _echo_report(report)
        if report.refusals:
            raise SystemExit(1)

    @zx.command("replay")
    @click.argument("scheme_code")
    def replay(scheme_code):
        """Replay a scheme's worked examples through its bound processes and rules (nothing is kept)."""
        scheme = db.session.scalar(select(Scheme).where(Scheme.code == scheme_code))
        if scheme is None:
            raise click.ClickException(f"no scheme {scheme_code!r}")
        try:
            report = replay_mod.replay(scheme)
        finally:
            db.session.rollback()
        for r in report.results:
            click.echo(f"{'PASS' if r.passed else 'FAIL'}  {r.example.name}  [{r.process or r.example.kind}]")
            if r.error:
                click.echo(f"      error: {r.error}")
            for d in r.differences:
                click.echo(f"      {d.key}: expected {d.expected!r}, actual {d.actual!r}")
        click.echo(f"{len(report.results) - len(report.failures)}/{len(report.results)} examples passed")
        if not report.passed:
            raise SystemExit(1)

    @zx.command("demo")
    @click.option("--password", default="demo1234", show_default=True)
    def demo(password):
        """Load demo organisations, users and schemes (idempotent) and print the logins."""
        from app.demo import load_demo   # lazy: the demo data is loaded only by this command
        with unit_of_work():
            logins = load_demo(password)
        click.echo(f"{'role':<22} {'organisation':<34} {'login':<18} password")
        for role, org, login in logins:
            click.echo(f"{role:<22} {org:<34} {login:<18} {password}")


def _upgrade_engine_state():
    with unit_of_work():
        counts = engine.upgrade_engine_state()
    if counts["specs"] or counts["instances"]:
        click.echo(f"engine state migrated: {counts['specs']} specs, {counts['instances']} instances")


def _echo_report(report):
    for f in report.files:
        for r in f.new:
            click.echo(f"{f.file}: {r.process_id} v{r.version} {r.content_hash[:12]} (new)")
        for r in f.restored:
            click.echo(f"{f.file}: {r.process_id} v{r.version} {r.content_hash[:12]} (current again)")
        for r in f.older:
            click.echo(f"{f.file}: {r.process_id} v{r.version} is an older version; left the current one")
        for refusal in f.refusals:
            click.echo(f"REFUSED {refusal}", err=True)


def _reference():
    with unit_of_work():
        seed_reference_rates()
        report = engine.deploy_directory(rollback=False)   # never reverts a version an administrator uploaded
    _echo_report(report)
