"""The WSGI application for production servers: ``gunicorn -c python:reviews.gunicorn_conf reviews.wsgi:app``.

Its log lines are JSON, each request's carrying the request's id (reviews.kernel.logs).
"""

from reviews.app import create_app
from reviews.kernel import logs
from workers.celery_app import celery_init_app, start_embedded

logs.configure()
app = create_app()
celery = celery_init_app(app)
if app.config["BACKGROUND_MODE"] == "embedded":
    start_embedded(app)
