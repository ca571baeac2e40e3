"""The copy-detection and junk-gate core: pure functions over texts, with no web, database or queue in sight.

- ``text``: normalisation (NFKC, invisible characters, word splitting) shared by every detector.
- ``fingerprints``: tokens of prose and code, k-gram hashes and winnowing.
- ``similarity``: comparing two documents, the common-k-gram weighting, candidate lookup, comparing a collection.
- ``files``: what a submitted file is and the text inside it (PDF, DOCX, plain text), within size limits.
- ``folder``: comparing every pair of files in a folder (the ``fairpeer similarity`` command).
- ``gate``: the junk gate, one module per rule.

The service (``reviews.integrity``, ``reviews.submissions``) stores and schedules; everything here can be run and
benchmarked on its own, like ``calibration``.
"""
