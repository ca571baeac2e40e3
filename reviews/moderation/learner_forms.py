"""The learner's forms about cases: the appeal form of the assignment page offers one choice, a review they
received or a criterion of the rubric, which goes to the service as the API's ``review_id`` or
``criterion_key``; the service's refusals about either are said beside that one choice."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reviews.kernel.errors import DomainError

ABOUT = "about"  # the form's one choice: a review's id, or "criterion:<key>" (ids never hold a colon)
CRITERION = "criterion:"
TARGET_FIELDS = ("review_id", "criterion_key")


def appeal_target(form: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(review_id, criterion_key) from the form: its ``about`` choice, or (a client that sends the API's names)
    ``review_id`` and ``criterion_key`` themselves. A choice of neither is (None, None), which the service refuses."""
    if ABOUT not in form:
        return (form.get("review_id") or "").strip()[:64] or None, (form.get("criterion_key") or "").strip()[:40] or None
    about = (form.get(ABOUT) or "").strip()
    if about.startswith(CRITERION):
        return None, about.removeprefix(CRITERION)[:40] or None
    return about[:64] or None, None


def beside_choice(work: Callable[[], Any]) -> Callable[[], Any]:
    """``work`` whose refusals naming ``review_id`` or ``criterion_key`` are said beside the form's one choice."""

    def run() -> Any:
        try:
            return work()
        except DomainError as exc:
            fields = exc.details.get("fields")
            if not isinstance(fields, dict) or not any(name in fields for name in TARGET_FIELDS):
                raise
            moved: dict[str, list[str]] = {}
            for name, messages in fields.items():
                said = list(messages) if isinstance(messages, list | tuple) else [str(messages)]
                moved.setdefault(ABOUT if name in TARGET_FIELDS else name, []).extend(said)
            raise DomainError(exc.code, exc.message, {**exc.details, "fields": moved}) from exc

    return run
