"""The ``fairpeer`` command line (docs/api.md)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from flask import Flask
from werkzeug.serving import run_simple

from calibration.files import calibrate_files
from credentials import STATUS_UNKNOWN, VALID, verify_credential
from detection.folder import similarity_dir
from reviews.accounts.services import create_sign_in_link, create_user, replace_token, user_by_email
from reviews.app import create_app
from reviews.credentials import keys
from reviews.demo import demo_exists, persona_links, seed_demo
from reviews.kernel import logs
from reviews.kernel.api import spec_dict
from reviews.kernel.db import db
from reviews.kernel.errors import DomainError
from reviews.kernel.migrate import upgrade
from workers.celery_app import celery_init_app, serve_worker_metrics, start_embedded


def build_app(**config: Any) -> Flask:
    app = create_app(config or None)
    celery_init_app(app)
    return app


DEFAULT_PORT = 5000


def default_base_url() -> str:
    """Where the pages are served, as far as this process can tell: FAIRPEER_BASE_URL, else this machine on
    $PORT (what `make run PORT=...` and `fairpeer serve` listen on), else port 5000."""
    configured = os.environ.get("FAIRPEER_BASE_URL", "").strip()
    if configured:
        return configured.rstrip("/")
    port = os.environ.get("PORT", "").strip()
    return f"http://127.0.0.1:{port if port.isdigit() else DEFAULT_PORT}"


BASE_URL_HELP = "The address the service is served on (default: $FAIRPEER_BASE_URL, else http://127.0.0.1:$PORT, else port 5000)."


@click.group()
def main() -> None:
    """fairpeer: peer-review calibration and moderation for online courses."""


@main.command()
def init() -> None:
    """Create or upgrade the database to the newest migration (safe to run twice)."""
    app = build_app()
    upgrade(app.config["DATABASE_URL"])
    click.echo(f"database ready: {app.extensions['fairpeer.db'][0].url.render_as_string(hide_password=True)}")
    with app.app_context():
        try:
            said = keys.ensure_default_key(db.session, app.config)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        db.session.commit()
    if said:
        click.echo(said)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, envvar="PORT", help="Also read from $PORT.")
def serve(host: str, port: int) -> None:
    """Run the web service; with no broker configured it also runs background and periodic work in-process."""
    app = build_app()
    logs.configure()  # JSON lines, each request's with its request id (and the tasks it enqueued, with the same)
    if app.config["BACKGROUND_MODE"] == "embedded":
        start_embedded(app)
        click.echo("background work: in this process (no broker configured)")
    else:
        click.echo("background work: sent to the broker; run `fairpeer worker` and `fairpeer beat`")
    run_simple(host, port, app, threaded=True, use_reloader=False)


@main.command(context_settings={"ignore_unknown_options": True})
@click.option("--concurrency", default=2, show_default=True, type=int)
@click.option("--loglevel", default="INFO", show_default=True)
def worker(concurrency: int, loglevel: str) -> None:
    """Run a background worker against the configured broker."""
    app = build_app()
    if app.config["BACKGROUND_MODE"] != "celery":
        raise click.ClickException(
            "No broker configured: set REDIS_URL or BROKER_URL (without one, `fairpeer serve` runs the work itself)."
        )
    logs.configure(loglevel)
    try:
        bind = serve_worker_metrics(app)  # before the pool forks: its processes then add up
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    if bind:
        click.echo(f"metrics: http://{bind}/metrics (Authorization: Bearer <METRICS_TOKEN>)", err=True)
    celery = app.extensions["celery"]
    celery.worker_main(
        ["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}", "-Q", "fairpeer", "--without-mingle", "--without-gossip"]
    )


@main.command()
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--schedule", default=None, help="Where beat keeps its schedule state (default: a temporary folder).")
def beat(loglevel: str, schedule: str | None) -> None:
    """Run the periodic scheduler against the configured broker (one per deployment)."""
    app = build_app()
    if app.config["BACKGROUND_MODE"] != "celery":
        raise click.ClickException("No broker configured: set REDIS_URL or BROKER_URL.")
    logs.configure(loglevel)
    schedule = schedule or str(Path(tempfile.mkdtemp(prefix="fairpeer-beat-")) / "schedule")
    app.extensions["celery"].start(["beat", f"--loglevel={loglevel}", f"--schedule={schedule}"])


@main.group()
def users() -> None:
    """Manage users."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--admin", is_flag=True, default=False)
def users_create(email: str, name: str, admin: bool) -> None:
    """Create a user and print {"id", "email", "token"} as JSON."""
    app = build_app()
    with app.app_context():
        try:
            user, token = create_user(db.session, email, name, is_admin=admin)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        db.session.commit()
        click.echo(json.dumps({"id": user.id, "email": user.email, "token": token}))


@users.command("token")
@click.option("--email", required=True)
def users_token(email: str) -> None:
    """Issue a new API token (every earlier one stops working at once) and print {"id", "email", "token"} as JSON."""
    app = build_app()
    with app.app_context():
        user = user_by_email(db.session, email)
        if user is None:
            raise click.ClickException(f"No user has the email {email}. Create one with `fairpeer users create`.")
        token = replace_token(db.session, user, actor_id=None)
        db.session.commit()
        click.echo(json.dumps({"id": user.id, "email": user.email, "token": token}))


@users.command("link")
@click.option("--email", required=True)
@click.option("--base-url", default=None, help=BASE_URL_HELP)
def users_link(email: str, base_url: str | None) -> None:
    """Print a single-use, expiring sign-in link for the browser pages."""
    app = build_app()
    with app.app_context():
        user = user_by_email(db.session, email)
        if user is None:
            raise click.ClickException(f"No user has the email {email}. Create one with `fairpeer users create`.")
        secret, _ = create_sign_in_link(db.session, user, app.config["SIGN_IN_LINK_MINUTES"])
        db.session.commit()
        click.echo(f"{(base_url or default_base_url()).rstrip('/')}/sign-in/{secret}")


@main.command()
@click.option("--base-url", default=None, help=BASE_URL_HELP)
def demo(base_url: str | None) -> None:
    """Fill an empty database with a demo course and print a sign-in link per persona; run again, it prints fresh
    links for the same personas."""
    app = build_app(BACKGROUND_MODE="inline")
    base = (base_url or default_base_url()).rstrip("/")
    with app.app_context():
        if demo_exists(db.session):
            links = persona_links(db.session, app, base)
            db.session.commit()
            click.echo("The demo course is already there; fresh sign-in links (each works once):")
        else:
            try:
                links = seed_demo(db.session, app, base)
            except RuntimeError as exc:
                raise click.ClickException(str(exc)) from None
    for persona, url in links.items():
        click.echo(f"{persona:>8}: {url}")
    if base_url is None:
        click.echo(f"The links point at {base}; for another address run `fairpeer demo --base-url URL` or set FAIRPEER_BASE_URL (or PORT).")


@main.command()
@click.option("--grades", "grades_path", required=True, type=click.Path(dir_okay=False))
@click.option("--staff", "staff_path", default=None, type=click.Path(dir_okay=False))
@click.option("--scale", default=None, help="MIN:MAX bounds of the scale, when known.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False))
def calibrate(grades_path: str, staff_path: str | None, scale: str | None, out_path: str) -> None:
    """Offline calibration of a peer-grade table (CSV formats in docs/api.md)."""
    bounds = None
    if scale:
        try:
            lo, hi = (float(x) for x in scale.split(":"))
        except ValueError:
            raise click.BadParameter("use MIN:MAX, for example 0:100", param_hint="--scale") from None
        if not lo < hi:
            raise click.BadParameter("MIN must be below MAX", param_hint="--scale")
        bounds = (lo, hi)
    try:
        summary = calibrate_files(grades_path, staff_path, bounds, out_path)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(summary, default=str))


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--prompt", "prompt_path", default=None, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, default=False, help="Print JSON (the only output format).")
def similarity(directory: str, prompt_path: str | None, as_json: bool) -> None:
    """Batch near-duplicate sweep over every file under DIRECTORY."""
    result = similarity_dir(directory, prompt_path)
    click.echo(json.dumps(result))


@main.command("verify")
@click.argument("credential_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--status-list",
    "status_list_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A status list credential saved beforehand (repeatable); without one, status cannot be checked.",
)
@click.option("--json", "as_json", is_flag=True, default=False, help="Print {status, checks} as JSON.")
def verify(credential_file: str, status_list_files: tuple[str, ...], as_json: bool) -> None:
    """Check a signed credential offline: signature, key, dates, status and schema. Exits 0 when valid, 1 when
    invalid or revoked, 3 when its status could not be checked."""
    document = _read_json(credential_file)
    lists = {}
    for path in status_list_files:
        listing = _read_json(path)
        if isinstance(listing, dict) and isinstance(listing.get("id"), str):
            lists[listing["id"]] = listing
    result = verify_credential(document, status_lists=lists.get)
    if as_json:
        click.echo(json.dumps(result.to_json()))
    else:
        click.echo(f"{result.status}: {credential_file}")
        for check in result.checks:
            mark = {True: "ok", False: "FAILED", None: "not checked"}[check.ok]
            click.echo(f"  {check.name:<10} {mark:<12} {check.detail}")
    raise SystemExit(0 if result.status == VALID else 3 if result.status == STATUS_UNKNOWN else 1)


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{path} is not a JSON file ({exc}); give the credential as saved from its link.") from None


@main.group("keys")
def keys_group() -> None:
    """The keys credentials are signed with (the private key stays in its file; the database keeps public keys)."""


KEY_OUT_HELP = "Where to write the new private key (mode 0600; never overwritten). Default: the instance folder's signing_key."


def _new_key(out: str | None, *, rotate: bool) -> None:
    app = build_app()
    path = Path(out or app.config["DEFAULT_SIGNING_KEY_FILE"])
    with app.app_context():
        try:
            key, retired = keys.create_key(db.session, path, rotate=rotate)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        db.session.commit()
    click.echo(f"new signing key: {key.did}")
    click.echo(f"written to {path} (readable by you only); point the service at it:")
    click.echo(f"  export FAIRPEER_SIGNING_KEY_FILE={path.resolve()}")
    for old in retired:
        click.echo(f"retired {old.did}: what it signed stays valid. Keep its key file and list it in")
        click.echo("  FAIRPEER_RETIRED_SIGNING_KEY_FILES, so that revoking what it signed can still be published.")


@keys_group.command("create")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help=KEY_OUT_HELP)
def keys_create(out: str | None) -> None:
    """Make the first signing key, write it to a file and register its public key."""
    _new_key(out, rotate=False)


@keys_group.command("rotate")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help=KEY_OUT_HELP)
def keys_rotate(out: str | None) -> None:
    """Make a new current signing key; the old ones are retired but stay valid for what they signed."""
    _new_key(out, rotate=True)


@keys_group.command("list")
def keys_list() -> None:
    """The registered public keys, oldest first; the current one is marked."""
    app = build_app()
    with app.app_context():
        rows = keys.list_keys(db.session)
        current = keys.current_key(db.session)
        if not rows:
            click.echo("no signing key registered; run `fairpeer keys create`")
        for row in rows:
            if current is not None and row.id == current.id:
                state = "current"
            else:
                state = f"retired {row.retired_at:%Y-%m-%d}" if row.retired_at else "not current"
            click.echo(f"{row.did}  registered {row.created_at:%Y-%m-%d}  {state}")


@main.command()
def openapi() -> None:
    """Print the OpenAPI document (the committed docs/openapi.json is this output)."""
    app = build_app(DATABASE_URL="sqlite://", BACKGROUND_MODE="inline")
    with app.app_context():
        sys.stdout.write(json.dumps(spec_dict(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
