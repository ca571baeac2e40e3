"""What each review counted for in its work's score, as the learner's, the staff's and the mentor's pages say it."""

from __future__ import annotations

from reviews.allocation.models import Review
from reviews.scoring.services import review_shares


def _review(review_id: str, weight: float | None, discounted: bool = False) -> Review:
    return Review(id=review_id, weight=weight, discounted=discounted, scores={}, comments={})


def test_shares_are_the_weights_over_the_counting_reviews_and_a_discounted_review_counts_nothing() -> None:
    shares = review_shares([_review("a", 0.01), _review("b", 0.03), _review("c", 0.5, discounted=True)])
    assert shares == {"a": 0.25, "b": 0.75, "c": 0.0}


def test_before_a_calibration_weighed_them_no_share_is_claimed() -> None:
    assert review_shares([_review("a", 0.2), _review("b", None)]) == {"a": None, "b": None}


def test_reviews_leaned_on_alike_share_alike() -> None:
    assert review_shares([_review("a", 0.0), _review("b", 0.0)]) == {"a": 0.5, "b": 0.5}
    assert review_shares([]) == {}
