"""Background work: the Celery app and its tasks (thin: load ids, call services, commit)."""
