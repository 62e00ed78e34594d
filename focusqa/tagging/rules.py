"""The rule signal: how strongly a segment's words match each code's seed terms."""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.tokens import Doc

from ..nlp import SPANS_KEY
from ..nlp.components import MATCHES_KEY

# Each distinct matched term adds this much evidence; the score saturates at 1.
TERM_WEIGHT = 0.55
PHRASE_WEIGHT = 0.9


@dataclass
class TermEvidence:
    """Per code: the matched words as they appear in the text, and the distinct terms
    (each adds :func:`term_weight`; the tagger's rule score is ``1 − exp(−Σ weights)``)."""

    words: dict[str, list[str]] = field(default_factory=dict)
    terms: dict[str, set[str]] = field(default_factory=dict)


def term_weight(term: str) -> float:
    """The evidence one distinct matched term adds: a phrase more than a single word."""
    return PHRASE_WEIGHT if " " in term else TERM_WEIGHT


def term_spans(doc: Doc, spans_key: str = SPANS_KEY) -> list[tuple[str, str, str, int]]:
    """(code id, term, text as written, first token) of every codebook match in ``doc``."""
    raw = doc.user_data.get(MATCHES_KEY)
    if raw is not None and spans_key == SPANS_KEY:
        return [(code_id, term, doc[start:end].text if end - start > 1 else doc[start].text, start)
                for code_id, term, start, end in raw]
    if spans_key not in doc.spans:
        return []
    return [(span.label_, span.id_, span.text, span.start) for span in doc.spans[spans_key]]
