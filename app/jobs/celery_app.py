"""Celery, configured from the Flask config (Flask's ``examples/celery`` pattern).

With no ``CELERY_BROKER_URL`` the broker is kombu's SQLAlchemy transport on a SQLite file in the
instance directory: a worker and beat run on the one machine with no extra service.  With Redis or
RabbitMQ configured, web processes, any number of workers and one beat run separately.

Tasks take ids, never ORM objects; JSON only; late acknowledgement, so a task whose worker dies is
delivered again -- every task is idempotent by the data it writes (unique keys), not by hope.
"""
from __future__ import annotations

import kombu.transport.sqlalchemy
from celery import Celery, Task, signals

from app.core.config import INSTANCE_DIR
from app.core.db import db

# the transport polls every second by default (a task then takes ~1 s); its options cannot be set
# through broker_transport_options (they go to create_engine), so set the class attribute here,
# in the module the worker imports too
kombu.transport.sqlalchemy.Transport.polling_interval = 0.1



class FlaskTask(Task):
    """Runs in the Flask app's context (the app given to :func:`configure_celery`); ends with a clean session."""
    abstract = True

    def __call__(self, *args, **kwargs):
        with self.app.flask_app.app_context():
            try:
                return self.run(*args, **kwargs)
            finally:
                db.session.remove()


celery = Celery("zengxin", task_cls=FlaskTask)


def default_broker_url(app) -> str:
    return f"sqla+sqlite:///{INSTANCE_DIR / 'celery-broker.sqlite'}"


def configure_celery(app):
    """Point the one Celery instance at ``app``'s settings; the jobs are registered by
    :func:`app.jobs.wiring.init_celery`, which calls this (so this module never imports the jobs)."""
    broker = app.config.get("CELERY_BROKER_URL") or default_broker_url(app)
    queue = app.config.get("CELERY_QUEUE") or "zengxin"
    celery.conf.update(
        broker_url=broker, result_backend=app.config.get("CELERY_RESULT_BACKEND") or None,
        task_ignore_result=True, task_serializer="json", accept_content=["json"], result_serializer="json",
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True, timezone="Asia/Shanghai", enable_utc=True,
        worker_hijack_root_logger=False,   # keep app.core.logs' handler: task id on every line
        task_default_queue=queue, task_default_exchange=queue, task_default_routing_key=queue,
        task_always_eager=bool(app.config.get("CELERY_TASK_ALWAYS_EAGER", False)),
        # Redis/SQS redeliver an unacknowledged message after this; long enough for any job here
        broker_transport_options={"visibility_timeout": 3600} if broker.startswith(("redis", "rediss")) else {},
    )
    if broker.startswith("sqla+"):
        celery.conf.broker_transport_options = {}

    celery.flask_app = app
    app.extensions["celery"] = celery
    return celery


@signals.worker_process_init.connect
def _fresh_connections(**_kw):
    # a forked pool process must not share the parent's database connections
    app = getattr(celery, "flask_app", None)
    if app is not None:
        with app.app_context():
            db.engine.dispose(close=False)
