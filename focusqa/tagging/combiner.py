"""The combiner: the signals' outputs in, suggestions with their evidence out.

Per code, a small logistic regression turns (model probability, term score,
question prior, neighbours' model probability) into a calibrated score. There are
two regimes: segments with interview structure (a moderator or headings), where the
prior is informative,
and plain content (prose, or transcripts with moderator turns removed), where
only the text speaks. Each regime has its own weights and F1-optimal threshold,
learned on out-of-fold model probabilities so the combiner never sees a model
score on the data that model was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ..codebook import Code
from ..types import CodeSuggestion
from .fastpaths import BatchTerms, chosen_pairs, evidence_words
from .model import fit_logistic
from .rules import TermEvidence
from .structure import Prior

# Used for a code or regime without enough training examples (e.g. codebook only):
# intercept, model logit, term score, prior, neighbours' model probability.
DEFAULT_STRUCTURED = np.array([-2.2, 0.8, 3.2, 2.6, 0.0])
DEFAULT_CONTENT = np.array([-1.8, 0.8, 3.6, 0.0, 0.0])
THRESHOLD_RANGE = (0.25, 0.65)
# Coded examples (and non-examples) a code needs before its weights are learned, per
# regime. Under a guide question the prior is strong evidence that a few examples calibrate;
# on plain content a combiner learned from fewer than a dozen examples did worse than the
# defaults on every prose dev set without shipped coding (docs/tagging.md, "Larger dev
# sets, the opening round, and a new codebook's first examples").
MIN_EXAMPLES = 4
MIN_CONTENT_EXAMPLES = 12
# A segment whose codes all miss their thresholds still gets its top code if it reaches this.
DEFAULT_FLOOR = 0.3
# Where a code's weights are the defaults (no coded text for it yet: a new codebook, a
# first few examples), its scores are the codebook's evidence alone, never calibrated on
# anyone's coding, and run lower: the best-supported code is still worth offering for
# confirmation (docs/tagging.md, "Closing questions, and prose read from the codebook
# alone", and the section above it).
CODEBOOK_ONLY_FLOOR = 0.1


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def signal_features(model_proba: np.ndarray, rule_scores: np.ndarray, prior: np.ndarray,
                    context: np.ndarray | None = None) -> np.ndarray:
    """Stack the signals into shape (n_segments, n_codes, 4).

    Model logit, term score, prior, and context: the model's probability for the
    neighbouring participant turns (a short answer continues the turn before it).
    """
    context = np.zeros_like(prior) if context is None else context
    return np.stack([_logit(model_proba), rule_scores, prior, context], axis=2)


def neighbour_context(proba: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per row, the larger model probability of the previous and next row of the same group.

    Rows are participant turns in text order; a short answer ("Ja, og det gælder også
    dagplejen") is usually about what the turn before it was about.
    """
    context = np.zeros_like(proba)
    if len(proba) < 2:
        return context
    same = groups[1:] == groups[:-1]
    context[1:][same] = proba[:-1][same]
    context[:-1][same] = np.maximum(context[:-1][same], proba[1:][same])
    return context


@dataclass
class SignalScores:
    """Every signal's output for a batch of segments, each of shape (n_segments, n_codes)
    where an array, as the combiner reads them.

    model: the project model's probability; rules: the term score; prior: the structure
    prior's strength; context: the model's probability for the neighbouring turns under
    the same guide question; structured: per segment, whether it is scored in the
    structured regime; content: per segment, whether it is a participant turn (the
    others get no codes); priors and terms: the structure reading and term matches
    behind the evidence.
    """

    model: np.ndarray
    rules: np.ndarray
    prior: np.ndarray
    context: np.ndarray
    structured: np.ndarray
    content: np.ndarray
    priors: list[Prior]
    terms: Sequence[TermEvidence] | BatchTerms

    def features(self) -> np.ndarray:
        return signal_features(self.model, self.rules, self.prior, self.context)


def _best_threshold(scores: np.ndarray, y: np.ndarray) -> float:
    best, best_f1 = 0.5, -1.0
    for t in np.arange(THRESHOLD_RANGE[0], THRESHOLD_RANGE[1] + 1e-9, 0.025):
        pred = scores >= t
        tp = float(np.sum(pred & (y == 1)))
        denom = float(pred.sum() + y.sum())
        f1 = 2 * tp / denom if denom else 0.0
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(t), f1
    return round(best, 3)


class Combiner(ClassifierMixin, BaseEstimator):
    """Per-code logistic stacking of the signals, in two regimes.

    Parameters
    ----------
    C : float, default=1.0
        Regularisation of the per-code logistic regressions.

    Attributes
    ----------
    coef_ : ndarray of shape (2, n_codes, 5)
        [regime, code] -> intercept and weights of model logit, terms, prior, context.
        Regime 0 is "structured", regime 1 "content only".
    thresholds_ : ndarray of shape (2, n_codes)
    learned_ : ndarray of bool, shape (2, n_codes)
        Whether the weights were learned (else the documented defaults).
    """

    def __init__(self, *, C: float = 1.0) -> None:
        self.C = C

    def fit(self, X: np.ndarray, Y: np.ndarray, structured: np.ndarray | None = None,
            sample_weight: np.ndarray | None = None) -> "Combiner":
        """X from :func:`signal_features`, Y the binary label matrix, structured a bool per row.

        Structured rows also train the content regime with their prior removed,
        so the content weights are learned from every labelled segment.
        """
        X = np.asarray(X, dtype=float)
        Y = np.asarray(Y, dtype=int)
        n, k, _ = X.shape
        structured = np.ones(n, bool) if structured is None else np.asarray(structured, bool)
        weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.classes_ = np.arange(k)
        self.coef_ = np.zeros((2, k, 5))
        self.thresholds_ = np.full((2, k), 0.5)
        self.learned_ = np.zeros((2, k), bool)
        for j in range(k):
            # Context helps where there is no structure; under a guide question the prior
            # already carries it (on held-out 2016 documents adding it there did not help).
            for regime, rows, cols in ((0, structured, [0, 1, 2]), (1, np.ones(n, bool), [0, 1, 3])):
                default = DEFAULT_STRUCTURED if regime == 0 else DEFAULT_CONTENT
                self.coef_[regime, j] = default
                y = Y[rows, j]
                need = MIN_EXAMPLES if regime == 0 else MIN_CONTENT_EXAMPLES
                if y.sum() < need or (len(y) - y.sum()) < need:
                    continue
                fitted = fit_logistic(X[rows][:, j, cols], y, l2=1.0 / self.C, sample_weight=weight[rows])
                coef = np.zeros(5)
                coef[0] = fitted[0]
                coef[[c + 1 for c in cols]] = fitted[1:]
                self.coef_[regime, j] = coef
                self.learned_[regime, j] = True
                scores = self._scores(X[rows][:, j, :], coef)
                self.thresholds_[regime, j] = _best_threshold(scores, y)
        return self

    @staticmethod
    def _scores(features: np.ndarray, coef: np.ndarray) -> np.ndarray:
        z = coef[0] + features @ coef[1:]
        return 1.0 / (1.0 + np.exp(-z))

    def predict_proba(self, X: np.ndarray, structured: np.ndarray | None = None) -> np.ndarray:
        """Combined score per segment and code, shape (n_segments, n_codes)."""
        check_is_fitted(self, "coef_")
        X = np.asarray(X, dtype=float)
        n, k, _ = X.shape
        structured = np.ones(n, bool) if structured is None else np.asarray(structured, bool)
        out = np.zeros((n, k))
        for j in range(k):
            out[structured, j] = self._scores(X[structured, j, :], self.coef_[0, j])
            out[~structured, j] = self._scores(X[~structured, j, :], self.coef_[1, j])
        return out

    def thresholds(self, structured: np.ndarray) -> np.ndarray:
        """Per segment and code, the threshold of the segment's regime."""
        check_is_fitted(self, "thresholds_")
        return np.where(np.asarray(structured, bool)[:, None], self.thresholds_[0], self.thresholds_[1])

    def floors(self, scores: np.ndarray, structured: np.ndarray, floor: float) -> np.ndarray:
        """Per segment, the floor for offering its top code alone: ``floor`` where that code's
        weights in the segment's regime were learned from coded text, else
        :data:`CODEBOOK_ONLY_FLOOR` (the defaults' scores are not calibrated and run lower)."""
        check_is_fitted(self, "learned_")
        if not len(scores):
            return np.zeros(0)
        top = np.argmax(scores, axis=1)
        learned = self.learned_[np.where(np.asarray(structured, bool), 0, 1), top]
        return np.where(learned, floor, min(floor, CODEBOOK_ONLY_FLOOR))

    def predict(self, X: np.ndarray, structured: np.ndarray | None = None) -> np.ndarray:
        n = np.asarray(X).shape[0]
        structured = np.ones(n, bool) if structured is None else np.asarray(structured, bool)
        return (self.predict_proba(X, structured) >= self.thresholds(structured)).astype(int)

    def combine(self, signals: SignalScores) -> np.ndarray:
        """Combined scores (n_segments, n_codes) of a batch; 0 for the moderator's turns."""
        scores = self.predict_proba(signals.features(), signals.structured)
        scores[~signals.content] = 0.0
        return scores

    def chosen(self, scores: np.ndarray, signals: SignalScores, *, threshold: float | None = None,
               floor: float = DEFAULT_FLOOR) -> tuple[np.ndarray, np.ndarray]:
        """The (segment, code) index pairs :meth:`suggest` suggests, highest score first
        within a segment (``scores`` as shown: rounded to four decimals)."""
        floor = self.floors(scores, signals.structured, floor)
        if threshold is None:
            limits = self.thresholds(signals.structured)
        else:
            limits = np.full(scores.shape, float(threshold))
            floor = np.minimum(floor, float(threshold))
        return chosen_pairs(scores, limits, floor, signals.content)

    def suggest(self, scores: np.ndarray, signals: SignalScores, codes: Sequence[Code], *,
                threshold: float | None = None, floor: float = DEFAULT_FLOOR) -> list[list[CodeSuggestion]]:
        """Per segment, the codes above their threshold (highest first), each with its evidence.

        When no code clears its threshold, the top code is still suggested alone if its
        score clears ``floor`` (:meth:`floors`: lower for a code whose weights are the
        defaults). ``threshold`` replaces the learned per-code thresholds.
        Evidence: the matched words as written, the guide point asked last, and each
        signal's value.
        """
        scores = np.round(scores, 4)
        seg_index, code_index = self.chosen(scores, signals, threshold=threshold, floor=floor)
        values = scores[seg_index, code_index].tolist()
        prior_v, model_v, rules_v = (np.round(values_of[seg_index, code_index], 3).tolist()
                                     for values_of in (signals.prior, signals.model, signals.rules))
        numbers = [c.number for c in codes]
        priors = signals.priors
        pairs = list(zip(seg_index.tolist(), code_index.tolist()))
        shown = evidence_words(signals.terms, [i for i, _ in pairs], [codes[j].id for _, j in pairs])
        out: list[list[CodeSuggestion]] = [[] for _ in range(len(scores))]
        for n, (i, j) in enumerate(pairs):
            asked = priors[i].code
            code = codes[j]
            out[i].append(CodeSuggestion(code.id, code.number, code.label_da, values[n], {
                "terms": shown[n],
                "question": numbers[asked] if asked is not None else None,
                "prior": prior_v[n],
                "model": model_v[n],
                "rules": rules_v[n],
            }))
        return out
