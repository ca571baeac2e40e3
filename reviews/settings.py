"""Configuration from the environment (docs/api.md): nothing set means the embedded default."""

from __future__ import annotations

import math
import os
import secrets
from pathlib import Path
from typing import Any

from detection.limits import MB, FileLimits


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _env_number(name: str, default: float) -> float:
    """A number from the environment (operators and the integration tests tune timings this way)."""
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


class SettingError(ValueError):
    """A setting from the environment that cannot be used: the message names it and says what it should be."""


def case_sla_hours(raw: str | None, defaults: dict[str, float]) -> dict[str, float]:
    """CASE_SLA_HOURS: ``defaults`` with the kinds FAIRPEER_CASE_SLA_HOURS sets ("plagiarism=12,similarity=24");
    a value the service cannot use stops it at start-up with a sentence saying what to write instead."""
    hours = dict(defaults)
    example = 'write kind=hours pairs separated by commas, e.g. FAIRPEER_CASE_SLA_HOURS="plagiarism=12,similarity=24"'
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        kind, equals, value = (p.strip() for p in part.partition("="))
        if not equals or not kind or not value:
            raise SettingError(f"FAIRPEER_CASE_SLA_HOURS: {part.strip()!r} is not kind=hours; {example}.")
        if kind not in defaults:
            raise SettingError(f"FAIRPEER_CASE_SLA_HOURS: {kind!r} is not a kind of case; choose from: {', '.join(sorted(defaults))}.")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not math.isfinite(number) or number <= 0:
            raise SettingError(f"FAIRPEER_CASE_SLA_HOURS: the target of {kind} must be a number of hours above 0, not {value!r}.")
        hours[kind] = number
    return hours


def _digest_hour() -> int:
    hour = _env_number("FAIRPEER_SLA_DIGEST_HOUR_UTC", 6)
    if hour != int(hour) or not 0 <= hour <= 23:
        raise SettingError(f"FAIRPEER_SLA_DIGEST_HOUR_UTC must be a whole hour from 0 to 23, not {hour:g}.")
    return int(hour)


def _secure_cookies() -> bool:
    """SESSION_COOKIE_SECURE from the environment ("1"/"0"); unset: on when DATABASE_URL is (a deployment), off for the
    embedded default on a laptop. The cookie is Secure on any request that came over HTTPS either way."""
    raw = os.environ.get("SESSION_COOKIE_SECURE", "").strip().lower()
    if raw:
        return raw in ("1", "true", "yes", "on")
    return bool(os.environ.get("DATABASE_URL"))


class Secret:
    """A secret setting (the credentials' signing key): its repr and str never show it; ``reveal()`` does."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('[redacted]')"

    __str__ = __repr__


def _public_base_url() -> str:
    """Where the service is reached from outside, for the URLs inside signed credentials (status lists): the pages'
    address, else this machine on $PORT, as `fairpeer demo` prints it."""
    configured = os.environ.get("FAIRPEER_BASE_URL", "").strip()
    if configured:
        return configured.rstrip("/")
    port = os.environ.get("PORT", "").strip()
    return f"http://127.0.0.1:{port if port.isdigit() else 5000}"


def from_environment(instance: Path) -> dict[str, Any]:
    broker = os.environ.get("BROKER_URL") or os.environ.get("REDIS_URL") or None
    database = os.environ.get("DATABASE_URL") or f"sqlite:///{(instance / 'fairpeer.db').resolve()}"
    return {
        "DATABASE_URL": database,
        "BROKER_URL": broker,
        "REDIS_URL": os.environ.get("REDIS_URL") or broker,
        "BACKGROUND_MODE": "celery" if broker else "embedded",
        "SECRET_KEY": _secret_key(instance),
        "SESSION_COOKIE_SECURE": _secure_cookies(),
        # /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it answers 404.
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or None,
        # `fairpeer worker` serves its pool's metrics (task runs, calibration time) at http://HOST:PORT/metrics, same token.
        "WORKER_METRICS_BIND": os.environ.get("FAIRPEER_WORKER_METRICS_BIND") or None,
        # Email: unset, notifications stay in the in-app inbox only. smtp://[user:password@]host[:port] (plain),
        # smtp+starttls://... (STARTTLS, port 587 by default) or smtps://... (TLS, port 465 by default).
        "SMTP_URL": os.environ.get("SMTP_URL") or None,
        "EMAIL_FROM": os.environ.get("FAIRPEER_EMAIL_FROM") or "fairpeer <no-reply@fairpeer.invalid>",
        # The pages' address, for the links in emails (the inbox keeps paths); unset, emails carry no link.
        "BASE_URL": os.environ.get("FAIRPEER_BASE_URL") or None,
        "CASE_SLA_HOURS": case_sla_hours(os.environ.get("FAIRPEER_CASE_SLA_HOURS"), DEFAULTS["CASE_SLA_HOURS"]),
        # The daily digest of cases past their target goes out on the first sweep of the day from this hour (UTC).
        "SLA_DIGEST_HOUR_UTC": _digest_hour(),
        # Signing credentials (reviews/credentials/keys.py): the private key as a multibase string, or a file holding
        # it (readable by its owner only). Neither set: the embedded default, a key `fairpeer init` makes in the
        # instance folder. The key is never logged nor stored in the database.
        "SIGNING_KEY": Secret(os.environ["FAIRPEER_SIGNING_KEY"]) if os.environ.get("FAIRPEER_SIGNING_KEY") else None,
        "SIGNING_KEY_FILE": os.environ.get("FAIRPEER_SIGNING_KEY_FILE") or None,
        "DEFAULT_SIGNING_KEY_FILE": str(instance / "signing_key"),
        # Key files of keys retired by `fairpeer keys rotate` (comma-separated): revoking what they signed re-signs
        # their status lists with them.
        "RETIRED_SIGNING_KEY_FILES": os.environ.get("FAIRPEER_RETIRED_SIGNING_KEY_FILES") or "",
        # The issuer's name in credentials, and the address their status list URLs start with.
        "ISSUER_NAME": os.environ.get("FAIRPEER_ISSUER_NAME") or "fairpeer",
        "CREDENTIALS_BASE_URL": _public_base_url(),
    }


DEFAULTS: dict[str, Any] = {
    "API_TITLE": "fairpeer",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "JSON_SORT_KEYS": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "CLAIM_LEASE_MINUTES": 30,
    # A review of an expired claim is still taken this long after the expiry, for staff samples and peer work
    # alike, then refused (409 claim_expired). None: the lease length.
    "CLAIM_GRACE_MINUTES": None,
    "SIGN_IN_LINK_MINUTES": 60 * 24,
    "MAX_FILE_BYTES": 10 * 1024 * 1024,
    "MAX_FILES": 5,
    "MAX_CONTENT_LENGTH": 5 * 10 * 1024 * 1024 + 1024 * 1024,
    "MAX_TEXT_CHARS": 200_000,
    # Reviews an item may get beyond its target so that late submitters can still give theirs (and calibration
    # gains): at most this many more than reviews_required. The adaptive extra reviews share the same cap.
    "OVER_REVIEW_EXTRA": 2,
    # A learner may contest a mentor's decision once, within this many days of it.
    "CONTEST_WINDOW_DAYS": 7,
    # Nobody stuck: a submission still short of reviews this long after it was submitted opens a needs_reviews case.
    "NEEDS_REVIEWS_AFTER_HOURS": _env_number("FAIRPEER_NEEDS_REVIEWS_AFTER_HOURS", 48),
    # Target time to resolution of each kind of case, in hours (docs/api.md, The queue): an unresolved case past
    # its target shows as breached; one open CASE_ESCALATE_AFTER_TARGETS times its target goes to staff.
    # FAIRPEER_CASE_SLA_HOURS="plagiarism=12,similarity=24" changes the kinds it names (from_environment).
    "CASE_SLA_HOURS": {
        "plagiarism": 24,
        "abusive": 24,
        "similarity": 48,
        "needs_reviews": 48,
        "unfair_review": 72,
        "contested_decision": 72,
        "repeated_junk": 72,
        "junk": 72,
        "low_confidence": 120,
        "unreliable_reviewer": 120,
        "other": 120,
    },
    # A kind missing from CASE_SLA_HOURS has this target.
    "CASE_SLA_DEFAULT_HOURS": _env_number("FAIRPEER_CASE_SLA_DEFAULT_HOURS", 72),
    "CASE_ESCALATE_AFTER_TARGETS": _env_number("FAIRPEER_CASE_ESCALATE_AFTER_TARGETS", 2),
    "SLA_DIGEST_HOUR_UTC": 6,
    # Adaptive review count: a score whose 95% interval is wider than this share of the scale asks for one more review.
    "ADAPTIVE_WIDTH_SHARE": 0.35,
    "IDEMPOTENCY_STALE_SECONDS": _env_number("FAIRPEER_IDEMPOTENCY_STALE_SECONDS", 120),
    "RATELIMIT_ENABLED": True,
    "RATE_LIMIT_SIGN_IN": "30 per minute",
    "RATE_LIMIT_SUBMIT": "30 per minute",
    "RATE_LIMIT_CLAIM": "300 per minute",
    # How often the periodic sweep and claim expiry run (beat, or the embedded runner).
    # How scores are computed: "auto" chooses per assignment between the calibrated model and the best baseline
    # by how well each predicts the staff samples held out one at a time; or force "model", "mean", "median"...
    "CALIBRATION_METHOD": os.environ.get("FAIRPEER_CALIBRATION_METHOD", "auto"),
    # A new submission whose similarity with an earlier one by another learner reaches this opens a case.
    "SIMILARITY_THRESHOLD": _env_number("FAIRPEER_SIMILARITY_THRESHOLD", 0.35),
    # A burst of reviews within this many seconds gives one recalibration run.
    "RECALIBRATE_DEBOUNCE_SECONDS": _env_number("FAIRPEER_RECALIBRATE_DEBOUNCE_SECONDS", 2),
    # The sweep that re-enqueues lost or stale work: work a dead worker held is done again within about this long
    # of a worker being back (tests/integration/test_recovery.py measures it with this default).
    "SWEEP_SECONDS": _env_number("FAIRPEER_SWEEP_SECONDS", 20),
    # Redis transport: a task whose worker died unacknowledged is delivered again after this long. Set from the
    # longest task measured: a recalibration of a million reviews takes about 5 s (python -m calibration.bench
    # speed), so two minutes is a wide margin and a redelivery never races a task still running in practice.
    "VISIBILITY_TIMEOUT_SECONDS": int(_env_number("FAIRPEER_VISIBILITY_TIMEOUT_SECONDS", 120)),
    "HEALTH_TIMEOUT_SECONDS": 5,
    # An email being sent is held this long (its SMTP conversation may take a third of it); a sender that died
    # leaves it to be sent again after that. A refused or unreachable SMTP server: tried again after the retry delay.
    "EMAIL_LEASE_SECONDS": _env_number("FAIRPEER_EMAIL_LEASE_SECONDS", 120),
    "EMAIL_RETRY_SECONDS": _env_number("FAIRPEER_EMAIL_RETRY_SECONDS", 60),
    # A page session (web_sessions) ends this long after sign-in, or after this long unused, or at sign-out.
    "WEB_SESSION_HOURS": _env_number("FAIRPEER_WEB_SESSION_HOURS", 7 * 24),
    "WEB_SESSION_IDLE_HOURS": _env_number("FAIRPEER_WEB_SESSION_IDLE_HOURS", 24),
    # A burst of score changes within this many seconds gives one credential run (revoke and issue again).
    "CREDENTIALS_DEBOUNCE_SECONDS": _env_number("FAIRPEER_CREDENTIALS_DEBOUNCE_SECONDS", 2),
    # POST /api/verify and fairpeer verify: a credential larger than this is refused before any JSON-LD work.
    "VERIFY_MAX_BYTES": 256 * 1024,
    "RATE_LIMIT_VERIFY": "60 per minute",
}


# Reading a learner's PDF or DOCX (detection/limits.py says what each guards against): what its zip may unpack to,
# what it may hold, and what the parsing child process may spend. Over any of them: 422 with `file_too_complex`.
_FILE_DEFAULTS = FileLimits()  # the defaults live with the limits (detection/limits.py); the environment may change them
FILE_LIMITS = FileLimits(
    max_unzipped_bytes=int(_env_number("FAIRPEER_FILE_MAX_UNZIPPED_MB", _FILE_DEFAULTS.max_unzipped_bytes / MB) * MB),
    max_zip_entry_bytes=int(_env_number("FAIRPEER_FILE_MAX_PART_MB", _FILE_DEFAULTS.max_zip_entry_bytes / MB) * MB),
    max_zip_entries=int(_env_number("FAIRPEER_FILE_MAX_PARTS", _FILE_DEFAULTS.max_zip_entries)),
    max_compression_ratio=int(_env_number("FAIRPEER_FILE_MAX_COMPRESSION_RATIO", _FILE_DEFAULTS.max_compression_ratio)),
    max_pdf_pages=int(_env_number("FAIRPEER_FILE_MAX_PDF_PAGES", _FILE_DEFAULTS.max_pdf_pages)),
    max_paragraphs=int(_env_number("FAIRPEER_FILE_MAX_PARAGRAPHS", _FILE_DEFAULTS.max_paragraphs)),
    max_chars=int(_env_number("FAIRPEER_FILE_MAX_CHARS", _FILE_DEFAULTS.max_chars)),
    parse_cpu_seconds=int(_env_number("FAIRPEER_FILE_PARSE_CPU_SECONDS", _FILE_DEFAULTS.parse_cpu_seconds)),
    parse_memory_bytes=int(_env_number("FAIRPEER_FILE_PARSE_MEMORY_MB", _FILE_DEFAULTS.parse_memory_bytes / MB) * MB),
    parse_wall_seconds=_env_number("FAIRPEER_FILE_PARSE_WALL_SECONDS", _FILE_DEFAULTS.parse_wall_seconds),
)
