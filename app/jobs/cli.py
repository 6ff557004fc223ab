"""``flask zx jobs`` and ``flask zx run-job NAME [--date YYYY-MM-DD]``: run any periodic job once, by hand."""
from __future__ import annotations

import click

from app.jobs.runner import JOBS, run_now


def register_jobs(group) -> None:
    @group.command("jobs")
    def list_jobs():
        """List the periodic jobs."""
        for j in JOBS.values():
            click.echo(f"{j.name:<16}{j.label}  {j.description}")

    @group.command("run-job")
    @click.argument("name")
    @click.option("--date", "for_date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="run as of this day (Asia/Shanghai), e.g. to catch up after downtime")
    def run_job(name, for_date):
        """Run one periodic job now, in this process (safe to repeat)."""
        if name not in JOBS:
            raise click.BadParameter(f"unknown job {name!r}; one of: {', '.join(JOBS)}", param_hint="NAME")
        try:
            run = run_now(name, for_date.date() if for_date else None, trigger="cli")
        except Exception as exc:
            raise click.ClickException(f"{name} failed: {type(exc).__name__}: {exc}") from exc
        click.echo(f"{name}: {run.summary}")
