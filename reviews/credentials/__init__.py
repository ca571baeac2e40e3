"""Signed credentials in the service: issuer keys, the Open Badges credentials of released projects and course
records, their status lists, and the verify page and API (over the pure core ``credentials/``)."""
