# The fairpeer image: one image for the web processes, the worker and beat (docker-compose.yml runs all three).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the package is built from (see .dockerignore): the dependency layer is rebuilt when these change.
COPY pyproject.toml README.md ./
COPY reviews ./reviews
COPY workers ./workers
COPY calibration ./calibration
COPY detection ./detection
COPY credentials ./credentials
COPY migrations ./migrations
RUN pip install . && rm -rf /src

# Run as an unprivileged user; its home is the working directory (./instance would live here, unused on PostgreSQL).
RUN useradd --create-home --home-dir /srv/fairpeer --uid 10001 --user-group fairpeer
USER fairpeer
WORKDIR /srv/fairpeer

EXPOSE 8000
CMD ["gunicorn", "-c", "python:reviews.gunicorn_conf", "-w", "4", "-b", "0.0.0.0:8000", "reviews.wsgi:app"]
