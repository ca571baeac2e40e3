"""The junk gate: decides in the submit request whether a text is real work, and says why not.

Every rule is judged on the text after NFKC normalisation with invisible characters removed (detection/text.py), and
every rule errs towards letting work through: a rejected honest learner is worse than a junk submission that a
reviewer reports. The rules that remove part of a text (a copy of the prompt, pleas to the graders, placeholder
text, encoded data) ask the same question: once that part is set aside, is there still an answer? A text is
refused when the part is most of it *and* what remains is shorter than the assignment's minimum, so quoting the
prompt before answering it, or ending an answer with "I hope this earns full marks", always passes.

The gate runs in the submit request, on texts of thousands of words: the text is normalised, split into words and
counted once for all the rules, and a rule first checks whether a cheap bound (a count, a look-up, the beginning
of the text) already settles its answer before it does the full work.

Each rule is a module of this package; :func:`check_text` (``check.py``) runs them in turn.
"""

from __future__ import annotations

from detection.gate.check import check_text
from detection.gate.settings import DEFAULT_SETTINGS, GateSettings, RejectionReason

__all__ = ["DEFAULT_SETTINGS", "GateSettings", "RejectionReason", "check_text"]
