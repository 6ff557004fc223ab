"""Entry point for ``celery -A app.jobs.worker``: builds the Flask app and its Celery instance."""
from app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
