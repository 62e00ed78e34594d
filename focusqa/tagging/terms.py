"""Signal 2: the codebook's seed terms found in a segment.

The pipeline (``focusqa.nlp``) finds each code's terms inside Danish compounds and
inflections; :class:`TermEvidence` keeps, per code, the words as written and the
distinct terms. Each distinct term adds evidence (:func:`~.rules.term_weight`: 0.55
for a word, 0.9 for a phrase) and a code's score is ``1 − exp(−Σ weights)``. Fitted on a
project's own text, the signal also learns how specific each term is there
(:mod:`.evidence`): a term in most segments is the project's topic, a metadata word
(respondent group, district, document name) says who spoke, and both count less or not
at all.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .evidence import segment_counts, term_weights
from .fastpaths import BatchTerms, rule_scores
from .rules import TermEvidence, term_weight


class TermSignal(BaseEstimator):
    """Term score per segment and code from the codebook's seed terms.

    Parameters
    ----------
    code_ids : sequence of str
        The codebook's code ids, in column order.

    Attributes
    ----------
    weights_ : dict of str to float
        Weight of each term (lower-cased stem) that counts less than
        :func:`~.rules.term_weight` in the text the signal was fitted on; every other
        term keeps its full weight. Empty after ``fit([])``: the codebook's own weights.
    """

    def __init__(self, *, code_ids: Sequence[str] = ()) -> None:
        self.code_ids = code_ids

    def fit(self, X: Sequence[TermEvidence] | BatchTerms, y=None, *,
            metadata: set[str] | None = None) -> "TermSignal":
        """Learn the terms' specificity in X, the term evidence of a project's participant
        segments; ``metadata`` are the project's metadata words (see :func:`.evidence.metadata_words`)."""
        counts = X.term_counts() if isinstance(X, BatchTerms) else segment_counts([e.terms for e in X])
        specific = term_weights(counts, len(X), metadata or set())
        self.weights_ = {term: term_weight(term) * w for term, w in specific.items()}
        self.code_index_ = {code: j for j, code in enumerate(self.code_ids)}
        return self

    def decision_function(self, X: Sequence[TermEvidence] | BatchTerms) -> np.ndarray:
        """Term scores in [0, 1), shape (n_segments, n_codes)."""
        check_is_fitted(self, "weights_")
        return rule_scores(X, self.code_index_, self.weights_)
