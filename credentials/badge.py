"""The Open Badges 3.0 credential this service issues: an OpenBadgeCredential (W3C VC 2.0) for one achievement.

Every node has an id, so what we sign has no blank nodes: the criteria and each result description take ids under
the achievement's, each result one under the credential's. Only terms the shipped contexts define are used."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from credentials.jsonld import OB_V3, VC_V2

CONTEXTS = [VC_V2, OB_V3]
TYPES = ["VerifiableCredential", "OpenBadgeCredential"]


@dataclass(frozen=True)
class ResultEntry:
    """One `result` of the subject with its `resultDescription` on the achievement.

    `result_type` is an OB 3.0 ResultType: one of GradePointAverage, LetterGrade, Percent, PerformanceLevel,
    PredictedScore, RawScore, Result, RubricCriterion, RubricCriterionLevel, RubricScore, ScaledScore, Status (or
    an extension value starting "ext:"). `value` is a string, as the Open Badges Result.value is."""

    key: str
    name: str
    result_type: str
    value: str
    value_min: str | None = None
    value_max: str | None = None


def achievement_credential(
    *,
    credential_id: str,
    issuer: dict[str, Any],
    valid_from: str,
    subject_id: str,
    achievement: dict[str, Any],
    subject_name: str | None = None,
    results: Sequence[ResultEntry] = (),
    evidence: Sequence[dict[str, Any]] = (),
    status: dict[str, Any] | None = None,
    valid_until: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """An unsigned OpenBadgeCredential. `achievement` needs `id`, `name`, `description` and `criteria`
    (`{"id", "narrative"}`); result descriptions are added to it from `results`."""
    achievement_id = achievement["id"]
    descriptions = [
        {
            "id": f"{achievement_id}#result-{entry.key}",
            "type": ["ResultDescription"],
            "name": entry.name,
            "resultType": entry.result_type,
            **({"valueMin": entry.value_min} if entry.value_min is not None else {}),
            **({"valueMax": entry.value_max} if entry.value_max is not None else {}),
        }
        for entry in results
    ]
    subject_results = [
        {
            "id": f"{credential_id}#result-{entry.key}",
            "type": ["Result"],
            "resultDescription": f"{achievement_id}#result-{entry.key}",
            "value": entry.value,
        }
        for entry in results
    ]
    subject: dict[str, Any] = {
        "id": subject_id,
        "type": ["AchievementSubject"],
        "achievement": {"type": ["Achievement"], **achievement, **({"resultDescription": descriptions} if descriptions else {})},
    }
    if subject_name:
        subject["name"] = subject_name
    if subject_results:
        subject["result"] = subject_results
    document: dict[str, Any] = {
        "@context": list(CONTEXTS),
        "id": credential_id,
        "type": list(TYPES),
        "issuer": {"type": ["Profile"], **issuer},
        "validFrom": valid_from,
        "name": name or achievement["name"],
        "credentialSubject": subject,
    }
    if valid_until:
        document["validUntil"] = valid_until
    if evidence:
        document["evidence"] = [{"type": ["Evidence"], **item} for item in evidence]
    if status:
        document["credentialStatus"] = status
    return document
