"""Celery, configured from the Flask config (filled out by the background-work feature)."""
from celery import Celery, Task

celery = Celery("zengxin")


def init_celery(app):
    broker = app.config.get("CELERY_BROKER_URL")
    if not broker:
        from app.core.config import INSTANCE_DIR
        broker = f"sqla+sqlite:///{INSTANCE_DIR / 'celery-broker.sqlite'}"
    celery.conf.update(broker_url=broker, task_serializer="json", accept_content=["json"],
                       result_serializer="json", task_acks_late=True, task_reject_on_worker_lost=True,
                       broker_connection_retry_on_startup=True, timezone="Asia/Shanghai",
                       task_always_eager=bool(app.config.get("CELERY_TASK_ALWAYS_EAGER", False)))

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery.Task = FlaskTask
    app.extensions["celery"] = celery
    return celery
