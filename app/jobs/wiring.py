"""Wiring Celery to a Flask app: its settings, every feature's periodic jobs, and beat's schedule.

The Celery instance (:mod:`app.jobs.celery_app`) and the job registry (:mod:`app.jobs.runner`) do not
import each other's users: the jobs import the instance, the features' ``jobs.py`` import the
registry, and this module, called by ``create_app``, imports them all.  A new feature's job module
is added to the imports below.
"""
from __future__ import annotations

# the modules that declare periodic jobs with @job, imported for that registration (in this order:
# the admin job page and `flask zx jobs` list the jobs as registered)
import app.notifications.jobs  # noqa: F401
import app.jobs.timers  # noqa: F401
import app.jobs.deadlines  # noqa: F401
import app.duties.jobs  # noqa: F401
import app.reports.jobs  # noqa: F401
from app.jobs import runner as jobs
from app.jobs.celery_app import configure_celery


def init_celery(app):
    """Configure the shared Celery instance from ``app`` and give beat every job's schedule."""
    celery = configure_celery(app)
    celery.conf.beat_schedule = jobs.beat_schedule(app)
    return celery
