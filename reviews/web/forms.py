"""Forms that never lose work: errors beside their fields, POST-redirect-GET, and the text kept across a sign-in.

A page form posts to a view that checks the CSRF token (``check_csrf``) and hands its work to ``submit_form``.
Whatever the outcome, the answer is a redirect (303) back to the page, so a reload never sends again:
- done: the work is committed and the next page says so;
- refused by a service (a ``DomainError``): nothing is committed; what the person typed and the refusal's
  sentences are kept as a draft (``FormDraft``), and the page shows the form again with each sentence beside the
  field it concerns;
- sent from a page whose session has since ended, or whose token is from an earlier sign-in: nothing is done; the
  typed text is kept the same way and the person is asked to sign in again (a signed-out browser) or to check the
  form and send it again. Nothing is ever sent on their behalf.

Templates read a form's state with the Jinja global ``form_state(form_id)`` and render fields with the macros
of ``web/forms.html``. The browser holds only the draft's random key in its signed session cookie.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, flash, g, redirect, render_template, request, session
from sqlalchemy import delete, select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from reviews.kernel.auth import current_caller_or_none
from reviews.kernel.db import db, utcnow
from reviews.kernel.error_handlers import CHANGED_MEANWHILE
from reviews.kernel.errors import DomainError
from reviews.kernel.transaction import run_in_transaction
from reviews.kernel.units import human_size
from reviews.web.models import FormDraft

DRAFTS = "drafts"  # the session's {form_id: draft key}
KEEP_FOR = timedelta(days=1)
# A draft keeps at most this much typed text; past it the person is told their text could not be kept.
MAX_KEPT_CHARS = 2_000_000
NOT_FORM_FIELDS = frozenset({"csrf", "form_id", "back"})
FILES_MARK = "_files"  # set in a draft's values when the form carried files, which a browser cannot be given back
REFUSED, STALE = "refused", "stale"
_SESSION_OWNER = "fairpeer.session_owner"
OUT_OF_DATE = "Nothing was sent: the page you sent it from was out of date. Go back, reload the page and send it again."


@dataclass
class FormState:
    """One form as the page shows it: the values typed last time and the sentences beside each field."""

    form_id: str
    values: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    reason: str | None = None  # None: a fresh form; "refused" or "stale" when it came back

    @property
    def kept(self) -> bool:
        return self.reason is not None

    @property
    def had_files(self) -> bool:
        return FILES_MARK in self.values

    @property
    def form_errors(self) -> list[str]:
        return self.errors.get("", [])

    @property
    def field_errors(self) -> dict[str, list[str]]:
        return {name: messages for name, messages in self.errors.items() if name}

    def value(self, name: str, default: Any = "") -> Any:
        kept = self.values.get(name)
        if kept is None:
            return "" if self.kept and default is None else default
        return kept[0] if kept else ""

    def all_values(self, name: str, default: list[str] | None = None) -> list[str]:
        return self.values.get(name, default or [])

    def checked(self, name: str, default: bool = False, value: str = "1") -> bool:
        """A kept form remembers an unticked box too (absent from the post); a fresh one uses ``default``."""
        return value in self.values.get(name, []) if self.kept else default

    def error(self, name: str) -> list[str]:
        return self.errors.get(name, [])

    def field_id(self, name: str) -> str:
        return f"{self.form_id}-{name}".replace(".", "-").replace("_", "-")


def form_state(form_id: str) -> FormState:
    """The form's kept draft for this browser (taken before the page, ``take_page_drafts``), else a fresh form."""
    cache: dict[str, FormState] = g.setdefault("fairpeer_forms", {})
    return cache.setdefault(form_id, FormState(form_id))


def submit_form(
    form_id: str,
    back: str,
    work: Callable[[], object],
    done: str | None = None,
    *,
    refusal_field: str | None = None,
    after: Callable[[], str | None] | None = None,
) -> Response:
    """Run ``work`` in its own transaction and commit, then go back to ``back`` (saying ``done``); on a refusal
    roll back and go back with the form kept and the refusal beside its fields. ``refusal_field`` names the field
    a refusal without fields concerns (for example the answer box of a rejected submission). ``after``, run after
    the commit, may give another page to go to. A deadlock runs the work again (kernel/transaction.py)."""

    def attempt() -> None:
        work()
        db.session.commit()

    try:
        run_in_transaction(db.session, attempt)
    except DomainError as exc:
        db.session.rollback()
        return keep_form(form_id, back, errors_of(exc, refusal_field))
    except StaleDataError:  # a versioned row changed between this request's read and its write
        db.session.rollback()
        return keep_form(form_id, back, {"": [CHANGED_MEANWHILE]})
    target = (after() if after else None) or back
    if done:
        flash(done, "ok")
    return redirect(target, code=303)


def keep_form(form_id: str, back: str, errors: Mapping[str, list[str]], reason: str = REFUSED) -> Response:
    """Keep what was typed in this request's form with ``errors`` and go back to the form (303)."""
    _keep(form_id, back, dict(errors), reason)
    return redirect(f"{back}#form-{form_id}", code=303)


def errors_of(exc: DomainError, refusal_field: str | None = None) -> dict[str, list[str]]:
    """A refusal's sentences by the form field they concern ("" for the whole form)."""
    errors: dict[str, list[str]] = {}
    fields = exc.details.get("fields")
    if isinstance(fields, dict) and fields:
        for name, messages in _flatten(fields):
            errors.setdefault(name, []).extend(messages)
        if exc.code != "invalid_request":
            errors.setdefault("", []).append(exc.message)
        return errors
    reasons = [r["message"] for r in exc.details.get("reasons", []) if isinstance(r, dict) and r.get("message")]
    errors[refusal_field or ""] = reasons or [exc.message]
    return errors


def _flatten(fields: Mapping[str, Any], prefix: str = "") -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for key, value in fields.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found.extend(_flatten(value, f"{name}."))
        elif isinstance(value, list | tuple):
            found.append((name, [str(m) for m in value]))
        else:
            found.append((name, [str(value)]))
    return found


def safe_back(value: str | None, default: str = "/") -> str:
    """A path on this site to go back to; anything else (another site, a scheme) is replaced by ``default``."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\r\n\t"):
        return default
    return value


class StaleForm(Exception):
    """A form whose CSRF token is not this session's: opened before a sign-in, or the session ended."""


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


def check_csrf() -> None:
    """Every page form posts the session's token, so another site cannot post on a signed-in person's behalf. A
    token that does not match is answered by ``StaleForm``: nothing is done, and the typed text is kept."""
    sent = request.form.get("csrf", "")
    if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
        raise StaleForm


def stale_answer() -> Any:
    """Nothing was sent: keep the text. A signed-in browser goes back to the form, filled in, to send it again; a
    signed-out one is asked to sign in again and then finds the form filled in. A post that is not one of the
    pages' forms (no form id) has nothing to keep and is refused."""
    form_id = request.form.get("form_id", "")
    if not form_id:
        return render_template("web/error.html", status=400, message=OUT_OF_DATE), 400
    back = safe_back(request.form.get("back"), safe_back(_referrer_path()))
    _keep(form_id, back, {}, STALE)
    if current_caller_or_none() is not None:
        return redirect(f"{back}#form-{form_id}", code=303)
    return render_template("web/sign_in_again.html", kept=True), 401


def keep_unauthenticated_post() -> bool:
    """A page form sent after its session ended: keep the typed text (True when it was kept)."""
    if request.method != "POST" or request.path.startswith("/api") or not request.form.get("form_id"):
        return False
    _keep(request.form["form_id"], safe_back(request.form.get("back"), safe_back(_referrer_path())), {}, STALE)
    return True


def pending_path() -> str | None:
    """The page of the most recent form kept for this browser because its session had ended, if any."""
    keys = _session_drafts()
    if not keys:
        return None
    hashes = [_hash(k) for k in keys.values()]
    row = db.session.scalars(
        select(FormDraft).where(FormDraft.key_hash.in_(hashes), FormDraft.reason == STALE).order_by(FormDraft.created_at.desc()).limit(1)
    ).first()
    return f"{row.path}#form-{row.form_id}" if row is not None else None


def carry_drafts() -> dict[str, str]:
    """The session's draft keys, to put back after the session is cleared on signing in."""
    return dict(_session_drafts())


def restore_drafts(keys: Mapping[str, str]) -> None:
    if keys:
        session[DRAFTS] = dict(keys)


def init_app(app: Flask, session_owner: Callable[[], str | None]) -> None:
    """``session_owner`` says whose this browser's page session is or was (accounts knows; the web kernel does not)."""
    app.extensions[_SESSION_OWNER] = session_owner
    # Globals, so that the macros of web/forms.html work when imported without the page's context.
    app.add_template_global(form_state, "form_state")
    app.add_template_global(csrf_token, "csrf_token")
    app.jinja_env.globals["request"] = request
    app.add_template_filter(human_size, "size")
    app.register_error_handler(StaleForm, lambda _exc: stale_answer())
    app.before_request(take_page_drafts)


def _session_drafts() -> dict[str, str]:
    keys = session.get(DRAFTS)
    return {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {}


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _referrer_path() -> str | None:
    referrer = request.referrer or ""
    host = request.host_url.rstrip("/")
    return referrer[len(host) :] if referrer.startswith(host + "/") else None


def _owner() -> str | None:
    """Whose form this is: the signed-in person, else the person of the session that has ended (so that someone
    else signing in on the same browser is not handed their text)."""
    caller = current_caller_or_none()
    if caller is not None:
        return str(caller.id)
    owner_of_ended: Callable[[], str | None] = current_app.extensions[_SESSION_OWNER]
    return owner_of_ended()


def _keep(form_id: str, back: str, errors: dict[str, list[str]], reason: str) -> None:
    form_id = form_id[:100]
    values = {name: request.form.getlist(name) for name in request.form if name not in NOT_FORM_FIELDS}
    if any(f.filename for f in request.files.values()):
        values[FILES_MARK] = ["1"]
    if len(json.dumps(values)) > MAX_KEPT_CHARS:
        values = {}
        errors.setdefault("", []).append("Your text was too long to keep here: paste it again from where you wrote it.")
    db.session.rollback()
    db.session.execute(delete(FormDraft).where(FormDraft.created_at < utcnow() - KEEP_FOR))
    keys = _session_drafts()
    if form_id in keys:  # one draft per form: the newest replaces the last
        db.session.execute(delete(FormDraft).where(FormDraft.key_hash == _hash(keys[form_id])))
    key = secrets.token_urlsafe(24)
    db.session.add(
        FormDraft(key_hash=_hash(key), user_id=_owner(), form_id=form_id, path=back[:2000], values=values, errors=errors, reason=reason)
    )
    db.session.commit()
    keys[form_id] = key
    session[DRAFTS] = keys


def take_page_drafts() -> None:
    """Before a page is shown: take (once) the drafts this browser kept for forms on this page, so the page and
    its templates read them from memory; drafts for other pages stay for those pages."""
    if request.method != "GET" or request.path.startswith(("/api", "/static")):
        return
    keys = _session_drafts()
    if not keys:
        return
    rows = db.session.scalars(select(FormDraft).where(FormDraft.key_hash.in_([_hash(k) for k in keys.values()]))).all()
    found = {row.key_hash: row for row in rows}
    caller = current_caller_or_none()
    taken: dict[str, FormState] = g.setdefault("fairpeer_forms", {})
    for form_id, key in list(keys.items()):
        row = found.get(_hash(key))
        if row is None or row.created_at < utcnow() - KEEP_FOR:
            del keys[form_id]
            continue
        if row.path.split("?", 1)[0] != request.path:
            continue
        del keys[form_id]
        db.session.delete(row)
        if row.user_id is not None and (caller is None or str(caller.id) != row.user_id):
            continue  # another person's text: never shown to whoever signs in next on this browser
        taken[form_id] = FormState(form_id, values=dict(row.values), errors=dict(row.errors), reason=row.reason)
    session[DRAFTS] = keys
    db.session.commit()
