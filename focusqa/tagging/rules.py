"""The rule signal: how strongly a segment's words match each code's seed terms."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from spacy.tokens import Doc

from ..nlp import SPANS_KEY

# Each distinct matched term adds this much evidence; the score saturates at 1.
TERM_WEIGHT = 0.55
PHRASE_WEIGHT = 0.9


@dataclass
class TermEvidence:
    """Per code: the matched words as they appear in the text, and a score in [0, 1]."""

    words: dict[str, list[str]] = field(default_factory=dict)
    terms: dict[str, set[str]] = field(default_factory=dict)

    def score(self, code_id: str) -> float:
        terms = self.terms.get(code_id)
        if not terms:
            return 0.0
        total = sum(PHRASE_WEIGHT if " " in t else TERM_WEIGHT for t in terms)
        return 1.0 - math.exp(-total)


def term_evidence(doc: Doc, spans_key: str = SPANS_KEY) -> TermEvidence:
    """Collect the codebook matcher's spans of ``doc`` per code."""
    evidence = TermEvidence()
    for span in doc.spans[spans_key] if spans_key in doc.spans else ():
        code = span.label_
        words = evidence.words.setdefault(code, [])
        if span.text not in words:
            words.append(span.text)
        evidence.terms.setdefault(code, set()).add(span.id_.lower())
    return evidence
