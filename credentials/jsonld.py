"""JSON-LD under our rules: only the contexts this package ships, every term defined, canonicalisation bounded.

PyLD resolves a context URL through a document loader; ours answers from `contexts/` and refuses every other URL
without touching the network. Expansion reports each property it would drop (PyLD otherwise drops an undefined
term silently, and it is then not signed), and a type or id that is not an absolute IRI is refused too.
Canonicalisation (RDFC-1.0, called URDNA2015 in PyLD) counts blank nodes first and runs under a deadline, so a
hostile document (a "poison graph" of many interlinked blank nodes) is refused in bounded time."""

from __future__ import annotations

import copy
import json
import time
from functools import cache
from importlib import resources
from typing import Any

from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver

from credentials.errors import CredentialError

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

# What PyLD raises on a document it cannot read: its own error, and plain ones from malformed shapes.
_PYLD_ERRORS = (jsonld.JsonLdError, TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError)

# Each context URL we accept, and the shipped file that is its content (copied unchanged from W3C and 1EdTech).
SHIPPED = {VC_V2: "credentials-v2.json", OB_V3: "ob-v3p0-context-3.0.3.json"}

# A foreign document offered for verification may hold this many blank nodes; ours hold none.
MAX_BLANK_NODES = 32
CANON_SECONDS = 0.25
# A credential is a few hundred JSON values; a document offered for checking may hold this many before any work.
MAX_JSON_VALUES = 5000
MAX_DEPTH = 40
# Resolved contexts kept between calls: the two shipped ones, and inline ones of documents seen lately.
CONTEXT_CACHE_SIZE = 256


@cache
def _context(url: str) -> dict[str, Any]:
    text = resources.files("credentials").joinpath("contexts", SHIPPED[url]).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def load_document(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """PyLD's document loader: a shipped context, or a refusal (no network, ever)."""
    if url not in SHIPPED:
        raise CredentialError(
            "context_not_shipped",
            f"The context {url} is not one this service ships, so the document cannot be read safely; use {VC_V2} and {OB_V3}.",
        )
    # "static" lets PyLD keep the resolved (and processed) context between calls; the copy keeps PyLD, which
    # rewrites what it loads in place, off our parsed file.
    return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(_context(url)), "tag": "static"}


class _ContextCache(dict[str, Any]):
    """Our own cache of resolved contexts, not PyLD's process-wide one: a context another caller cached under a
    URL must never stand in for the refusal of our loader. Bounded: emptied when full."""

    def __setitem__(self, key: str, value: Any) -> None:
        if len(self) >= CONTEXT_CACHE_SIZE and key not in self:
            self.clear()
        super().__setitem__(key, value)


_RESOLVED = _ContextCache()


def _options() -> dict[str, Any]:
    # No base IRI: a relative type or id stays relative (and is refused) instead of resolving against a default.
    return {"documentLoader": load_document, "base": None, "contextResolver": ContextResolver(_RESOLVED, load_document)}


def _refuse_dropped(prop: str | None) -> None:
    raise CredentialError(
        "undefined_term",
        f"The property {prop!r} is not defined by the document's contexts, so it would not be signed; "
        "remove it or use a term the Verifiable Credentials 2.0 or Open Badges 3.0 context defines.",
    )


def _unwrap(error: BaseException) -> CredentialError | None:
    """PyLD wraps what the loader or handler raised in its own errors; find ours."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, CredentialError):
            return seen
        details = getattr(seen, "details", None)
        cause = details.get("cause") if isinstance(details, dict) else None
        nested = cause if isinstance(cause, BaseException) else None
        seen = nested or seen.__cause__ or seen.__context__
    return None


def _check_iris(node: Any) -> None:
    """Every @id and @type left after expansion is an absolute IRI (or a blank node label)."""
    if isinstance(node, list):
        for item in node:
            _check_iris(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "@id" and isinstance(value, str):
            _require_iri(value, "id")
        elif key == "@type" and "@value" not in node:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    _require_iri(item, "type")
        elif key != "@value":
            _check_iris(value)


def _require_iri(value: str, what: str) -> None:
    if value.startswith("_:"):
        return
    scheme, colon, _ = value.partition(":")
    if not colon or not scheme or not scheme[0].isalpha():
        raise CredentialError(
            "undefined_term",
            f"The {what} {value!r} is not defined by the document's contexts (it is not an absolute IRI), so it "
            "would not be signed; use a type the contexts define or a full URL.",
        )


def _too_large(node: Any) -> str | None:
    """Why the document is too big to check (too many JSON values, or nested too deep), without recursing."""
    budget = MAX_JSON_VALUES
    stack = [(node, 0)]
    while stack:
        item, depth = stack.pop()
        budget -= 1
        if budget < 0:
            return f"it holds more than {MAX_JSON_VALUES} JSON values"
        if depth > MAX_DEPTH:
            return f"it is nested more than {MAX_DEPTH} levels deep"
        if isinstance(item, dict):
            stack.extend((value, depth + 1) for value in item.values())
        elif isinstance(item, list):
            stack.extend((value, depth + 1) for value in item)
    return None


def expand_strict(doc: dict[str, Any]) -> list[Any]:
    """Expanded JSON-LD, or a CredentialError when a context is not shipped or any term is undefined."""
    if not isinstance(doc, dict) or "@context" not in doc:
        raise CredentialError("not_json_ld", "The document is not JSON-LD: it needs an object with an @context.")
    too_large = _too_large(doc)
    if too_large:
        raise CredentialError("document_too_large", f"The document is not checked: {too_large}, and no credential is.")
    try:
        expanded: list[Any] = jsonld.expand(doc, _options(), on_property_dropped=_refuse_dropped)
    except CredentialError:
        raise
    except _PYLD_ERRORS as error:  # PyLD wraps ours in its JsonLdError, and trips on some malformed input
        ours = _unwrap(error)
        if ours is not None:
            raise ours from None
        raise CredentialError("not_json_ld", f"The document is not valid JSON-LD: {str(error)[:200]}") from None
    _check_iris(expanded)
    return expanded


class _Deadline(Exception):
    pass


class _BoundedCanon(URDNA2015):  # type: ignore[misc]
    """RDFC-1.0 that gives up when its deadline passes (checked in the exponential part of the algorithm)."""

    def __init__(self, deadline: float) -> None:
        super().__init__()
        self._deadline = deadline

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        if time.monotonic() > self._deadline:
            raise _Deadline
        return super().hash_n_degree_quads(id_, issuer)

    def hash_related_blank_node(self, related: str, quad: Any, issuer: Any, position: str) -> Any:
        if time.monotonic() > self._deadline:
            raise _Deadline
        return super().hash_related_blank_node(related, quad, issuer, position)


def _dataset(expanded: list[Any]) -> dict[str, Any]:
    try:
        dataset: dict[str, Any] = jsonld.to_rdf(expanded, _options())
    except _PYLD_ERRORS as error:
        raise CredentialError("not_json_ld", f"The document cannot be read as RDF: {str(error)[:200]}") from None
    return dataset


def blank_nodes(dataset: dict[str, Any]) -> int:
    labels: set[str] = set()
    for graph, triples in dataset.items():
        if graph.startswith("_:"):
            labels.add(graph)
        for triple in triples:
            for part in ("subject", "object"):
                if triple[part]["type"] == "blank node":
                    labels.add(triple[part]["value"])
    return len(labels)


def canonize_expanded(expanded: list[Any], *, max_blank_nodes: int = MAX_BLANK_NODES, timeout_s: float = CANON_SECONDS) -> str:
    """The RDFC-1.0 canonical N-Quads of an expanded document, bounded in blank nodes and time."""
    dataset = _dataset(expanded)
    count = blank_nodes(dataset)
    if count > max_blank_nodes:
        if not max_blank_nodes:
            raise CredentialError("has_blank_nodes", f"The document has {count} nodes without an id; give every node an id before signing.")
        raise CredentialError(
            "too_many_blank_nodes",
            f"The document has {count} blank nodes (nodes without an id); at most {max_blank_nodes} are accepted, "
            "so it cannot be checked safely.",
        )
    try:
        canonical: str = _BoundedCanon(time.monotonic() + timeout_s).main(dataset, {"format": "application/n-quads"})
    except _Deadline:
        raise CredentialError(
            "canonicalisation_too_slow",
            f"Canonicalising the document took longer than {timeout_s:g} s; a document built to be slow to check is refused.",
        ) from None
    return canonical


def canonize(doc: dict[str, Any], *, max_blank_nodes: int = MAX_BLANK_NODES, timeout_s: float = CANON_SECONDS) -> str:
    """Expand under our rules, then canonicalise (RDFC-1.0 N-Quads)."""
    return canonize_expanded(expand_strict(doc), max_blank_nodes=max_blank_nodes, timeout_s=timeout_s)
