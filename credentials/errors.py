"""The one error of the credentials core: a code for programs and a sentence for people."""

from __future__ import annotations


class CredentialError(Exception):
    """A credential (or a document offered as one) that cannot be signed or checked.

    `code` is stable snake_case (`context_not_shipped`, `undefined_term`, `too_many_blank_nodes`,
    `canonicalisation_too_slow`, `document_too_large`, `not_json_ld`, `bad_proof`, `bad_key`, `has_blank_nodes`, `bad_status_list`);
    `message` says what is wrong in words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
