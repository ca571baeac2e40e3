"""The WSGI application for production servers: ``gunicorn -c python:reviews.gunicorn_conf reviews.wsgi:app``."""

from reviews.app import create_app
from workers.celery_app import celery_init_app, start_embedded

app = create_app()
celery = celery_init_app(app)
if app.config["BACKGROUND_MODE"] == "embedded":
    start_embedded(app)
