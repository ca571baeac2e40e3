REPORT_KINDS = ("plagiarism", "unfair_review", "junk", "abusive", "other")
SERVICE_KINDS = ("similarity", "repeated_junk", "needs_reviews", "low_confidence", "unreliable_reviewer")
ACTIONS = ("dismiss", "override_score", "mark_plagiarism", "discount_review", "request_staff_review")

# Most urgent first: copying and abuse before disagreements about points.
PRIORITY = {
    "plagiarism": 80,
    "similarity": 70,
    "abusive": 75,
    "unfair_review": 60,
    "repeated_junk": 55,
    "junk": 50,
    "needs_reviews": 45,
    "low_confidence": 40,
    "unreliable_reviewer": 35,
    "other": 30,
}
