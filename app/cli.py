import click

from app.core.transaction import unit_of_work
from app.policies.rates import seed_reference_rates
from app.tasks.cli import register_jobs
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
        """Deploy every BPMN file in bpmn/ (new versions by content hash)."""
        with unit_of_work():
            rows = engine.deploy_directory()
        for r in rows:
            click.echo(f"{r.process_id} v{r.version} {r.content_hash[:12]}")

    @zx.command("demo")
    @click.option("--password", default="demo1234", show_default=True)
    def demo(password):
        """Load demo organisations, users and schemes (idempotent) and print the logins."""
        from app.demo import load_demo   # lazy: the demo data is loaded only by this command
        with unit_of_work():
            logins = load_demo(password)
        click.echo(f"{'role':<22}{'organisation':<34}{'login':<16}password")
        for role, org, login in logins:
            click.echo(f"{role:<22}{org:<34}{login:<16}{password}")


def _upgrade_engine_state():
    with unit_of_work():
        counts = engine.upgrade_engine_state()
    if counts["specs"] or counts["instances"]:
        click.echo(f"engine state migrated: {counts['specs']} specs, {counts['instances']} instances")


def _reference():
    with unit_of_work():
        seed_reference_rates()
        engine.deploy_directory()
