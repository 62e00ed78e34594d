"""Signal 3, the project model: TF-IDF on lemmas plus character n-grams, one calibrated
linear classifier per code (one-vs-rest, multi-label), learned from coded segments.

:class:`ProjectModelSignal` is the signal the tagger uses; it joins
:class:`CompoundTfidfVectorizer` and :class:`CalibratedOneVsRest`, and
:func:`project_weights` makes a project's own confirmations outweigh the shipped
demo coding. All follow scikit-learn's estimator conventions: ``__init__`` only stores
keyword parameters, ``fit`` returns ``self`` and sets attributes ending in ``_``,
``transform``/``predict_proba`` start with ``check_is_fitted``.

Character n-grams are computed once per distinct word and summed per segment
(a sparse product), which equals ``char_wb`` n-grams but costs a fraction: a
corpus has tens of thousands of word types and millions of tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import normalize
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .fastpaths import count_matrix, feature_rows, shared_ridge

_WORD = re.compile(r"\w+", re.UNICODE)

TokenDoc = Sequence[str] | str


def _tokens(doc: TokenDoc) -> Sequence[str]:
    if isinstance(doc, str):
        return [w for w in _WORD.findall(doc.lower()) if not w.isdigit()]
    return doc


def fit_logistic(X: np.ndarray, y: np.ndarray, *, l2: float = 1.0, max_iter: int = 50,
                 sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Intercept and weights of an L2-regularised logistic regression (Newton's method).

    For the few dense features of calibration and stacking this is exact, fast and
    deterministic; ``y`` may hold soft targets in [0, 1]. The intercept is not
    penalised.
    """
    X = np.asarray(X, dtype=float)
    A = np.hstack([np.ones((X.shape[0], 1)), X])
    w = np.zeros(A.shape[1])
    penalty = np.full(A.shape[1], l2)
    penalty[0] = 1e-8
    weight = np.ones(A.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-np.clip(A @ w, -35, 35)))
        grad = A.T @ (weight * (p - y)) + penalty * w
        hess = (A * (weight * p * (1 - p))[:, None]).T @ A + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w


class CompoundTfidfVectorizer(TransformerMixin, BaseEstimator):
    """TF-IDF over word (lemma) features and character n-grams of each word.

    Parameters
    ----------
    ngram_range : tuple of int, default=(4, 5)
        Lengths of character n-grams taken inside each long word (padded with
        spaces), so a compound shares features with its parts.
    min_compound_length : int, default=8
        Only words at least this long (the compounds) get n-grams; shorter words
        are covered by their lemma feature.
    min_df : int, default=2
        Features seen in fewer training segments are dropped.
    word_weight : float, default=1.0
        Weight of the whole-word feature relative to one n-gram.
    sublinear_tf : bool, default=True
        Use ``1 + log(tf)``.

    Attributes
    ----------
    vocabulary_ : dict of str to int
    idf_ : ndarray of shape (n_features,)
    """

    def __init__(self, *, ngram_range: tuple[int, int] = (4, 5), min_compound_length: int = 8,
                 min_df: int = 2, word_weight: float = 1.0, sublinear_tf: bool = True) -> None:
        self.ngram_range = ngram_range
        self.min_compound_length = min_compound_length
        self.min_df = min_df
        self.word_weight = word_weight
        self.sublinear_tf = sublinear_tf

    def _type_features(self, word: str) -> list[str]:
        if len(word) < self.min_compound_length:
            return ["w:" + word]
        lo, hi = self.ngram_range
        padded = f" {word} "
        grams = [padded[i:i + n] for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)]
        return ["w:" + word] + grams

    def _doc_type_matrix(self, X: Iterable[TokenDoc], types: dict[str, int]) -> sp.csr_matrix:
        """Token counts per document over word types numbered in order of first appearance."""
        docs = [_tokens(doc) for doc in X]
        indptr = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum([len(doc) for doc in docs], out=indptr[1:])
        flat = [t for doc in docs for t in doc]
        if types or not flat:
            indices = np.fromiter((types.setdefault(t, len(types)) for t in flat), dtype=np.int64,
                                  count=len(flat))
        else:
            # Hashing in C; factorize numbers types by first appearance, like setdefault.
            codes, uniques = pd.factorize(np.array(flat, dtype=object))
            indices = codes.astype(np.int64)
            types.update(zip(uniques.tolist(), range(len(uniques))))
        data = np.ones(len(indices), dtype=np.float64)
        matrix = sp.csr_matrix((data, indices, indptr), shape=(len(docs), max(len(types), 1)))
        matrix.sum_duplicates()
        return matrix

    def _type_rows(self, words: Sequence[str], vocabulary: dict[str, int]) -> sp.csr_matrix:
        indptr, indices, data = [0], [], []
        for word in words:
            row: dict[int, float] = {}
            for k, feature in enumerate(self._type_features(word)):
                col = vocabulary.get(feature)
                if col is not None:
                    row[col] = row.get(col, 0.0) + (self.word_weight if k == 0 else 1.0)
            indices.extend(row)
            data.extend(row.values())
            indptr.append(len(indices))
        return sp.csr_matrix((np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int64),
                              np.asarray(indptr)), shape=(len(words), len(vocabulary)))

    def fit(self, X: Iterable[TokenDoc], y=None) -> "CompoundTfidfVectorizer":
        """Learn the vocabulary and IDF from token sequences (or raw strings)."""
        types: dict[str, int] = {}
        docs = self._doc_type_matrix(X, types)
        words = list(types)
        all_features: dict[str, int] = {}
        for word in words:
            for feature in self._type_features(word):
                all_features.setdefault(feature, len(all_features))
        full = self._type_rows(words, all_features)
        counts = docs[:, : len(words)] @ full
        df = np.bincount(counts.indices, minlength=len(all_features))
        keep = np.flatnonzero(df >= self.min_df)
        names = list(all_features)
        self.vocabulary_ = {names[i]: j for j, i in enumerate(keep)}
        n = docs.shape[0]
        self.idf_ = np.log((1 + n) / (1 + df[keep])) + 1.0
        self.n_features_in_ = 1
        self._cache = {w: self._type_rows([w], self.vocabulary_) for w in words}
        return self

    def transform(self, X: Iterable[TokenDoc]) -> sp.csr_matrix:
        """TF-IDF matrix (rows L2-normalised) for token sequences (or raw strings)."""
        check_is_fitted(self, "vocabulary_")
        types: dict[str, int] = {}
        docs = self._doc_type_matrix(X, types)
        words = list(types)
        if not words:
            return sp.csr_matrix((docs.shape[0], len(self.vocabulary_)))
        cache = self._cache
        missing = [w for w in words if w not in cache]
        if missing:
            rows = self._type_rows(missing, self.vocabulary_)
            for i, w in enumerate(missing):
                cache[w] = rows[i]
        type_matrix = sp.vstack([cache[w] for w in words], format="csr")
        return self.transform_types(docs[:, : len(words)], type_matrix)

    def type_matrix(self, words: Sequence[str]) -> sp.csr_matrix:
        """Feature counts of word types, one row per word in the order given.

        With :meth:`transform_types`, a caller that numbers its word types itself
        (a tagger keeps lemma ids) transforms token-id arrays without strings.
        """
        check_is_fitted(self, "vocabulary_")
        return self._type_rows(list(words), self.vocabulary_)

    def transform_types(self, doc_types: sp.csr_matrix, type_matrix: sp.csr_matrix) -> sp.csr_matrix:
        """TF-IDF matrix from token counts per document over word types (columns = rows of
        ``type_matrix``, see :meth:`type_matrix`)."""
        check_is_fitted(self, "vocabulary_")
        counts = (doc_types @ type_matrix).tocsr()
        if self.sublinear_tf:
            np.log1p(counts.data, out=counts.data)
        counts = counts @ sp.diags(self.idf_)
        return normalize(counts.tocsr(), copy=False)


def _stacked_linear(estimators: list) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(columns, weights, intercepts) of the fitted codes, so that all codes' decision
    values come from one sparse product ``X @ weights + intercepts``; ``None`` when no
    code had enough examples to fit."""
    fitted = [(j, est[0]) for j, est in enumerate(estimators) if isinstance(est, tuple)]
    if not fitted:
        return None
    return (np.array([j for j, _ in fitted]),
            np.column_stack([clf.coef_ for _, clf in fitted]),
            np.array([clf.intercept_ for _, clf in fitted]))


@dataclass(frozen=True)
class RidgeFit:
    """One code's fitted ridge classifier: ``decision = X @ coef_ + intercept_``."""

    coef_: np.ndarray
    intercept_: float

    def decision_function(self, X) -> np.ndarray:
        return np.asarray(X @ self.coef_).ravel() + self.intercept_


class CalibratedOneVsRest(ClassifierMixin, BaseEstimator):
    """One linear classifier per code with Platt-calibrated probabilities (multi-label).

    Each code's probabilities are calibrated on out-of-fold decision values, which
    are kept as ``oof_proba_`` so a combiner can be trained on honest scores
    without fitting the model again.

    The per-code model is a ridge (least-squares) classifier on ±1 targets, scikit-learn's
    ``RidgeClassifier``: deterministic, fast, and the best of the linear models tried on
    held-out documents of the demo corpus. All codes and folds are solved together
    (:func:`.fastpaths.shared_ridge`).

    Parameters
    ----------
    alpha : float, default=1.0
        The ridge penalty.
    cv : int, default=3
        Folds for the out-of-fold calibration (stratified per code).
    class_weight : {"balanced", None}, default="balanced"
    random_state : int or None, default=None
        Shuffling of the folds.

    Attributes
    ----------
    classes_ : ndarray of shape (n_codes,)
        Column indices of the label matrix.
    estimators_ : list
        Per code ``(RidgeFit, a, b)`` for ``p = 1 / (1 + exp(-(a * d + b)))``, or a
        constant probability when a code has too few examples.
    oof_proba_ : ndarray of shape (n_samples, n_codes)
    linear_ : tuple or None
        The linear classifiers' coefficients stacked, for one product per batch
        (see :func:`_stacked_linear`).
    """

    def __init__(self, *, alpha: float = 1.0, cv: int = 3, class_weight: str | None = "balanced",
                 random_state: int | None = None) -> None:
        self.alpha = alpha
        self.cv = cv
        self.class_weight = class_weight
        self.random_state = random_state

    @staticmethod
    def _platt(decision: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        # Platt's target smoothing keeps the sigmoid finite on separable folds.
        pos, neg = float(y.sum()), float(len(y) - y.sum())
        target = np.where(y == 1, (pos + 1) / (pos + 2), 1 / (neg + 2))
        coef = fit_logistic(decision.reshape(-1, 1), target, l2=1e-3)
        return float(coef[1]), float(coef[0])

    def _row_weights(self, y: np.ndarray, rows: np.ndarray, sample_weight: np.ndarray) -> np.ndarray:
        """A fit's weight per row: 0 outside ``rows``, the balanced class weight of ``rows``
        times the sample weight inside (as ``RidgeClassifier`` fitted on ``rows`` alone)."""
        weights = np.zeros(len(y))
        balance = np.ones(2)
        if self.class_weight == "balanced":
            counts = np.bincount(y[rows], minlength=2)
            balance = len(rows) / (2.0 * counts)
        weights[rows] = balance[y[rows]] * sample_weight[rows]
        return weights

    def fit(self, X, Y, sample_weight: np.ndarray | None = None) -> "CalibratedOneVsRest":
        """Fit on a sparse or dense matrix and a binary label matrix (n_samples, n_codes)."""
        Y = np.asarray(Y, dtype=int)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        X = sp.csr_matrix(X, dtype=float)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        n, k = Y.shape
        sample_weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.classes_ = np.arange(k)
        self.n_features_in_ = X.shape[1]
        self.estimators_ = [None] * k
        self.oof_proba_ = np.zeros((n, k))
        # Per code: its folds' fits, then its fit on every row; one column each.
        targets, weights, plan = [], [], []
        for j in range(k):
            y = Y[:, j]
            pos = int(y.sum())
            if min(pos, n - pos) < max(self.cv, 2):
                rate = (pos + 0.5) / (n + 1.0)
                self.estimators_[j] = rate
                self.oof_proba_[:, j] = rate
                continue
            folds = list(StratifiedKFold(self.cv, shuffle=True, random_state=seed).split(np.zeros(n), y))
            for rows in [train for train, _ in folds] + [np.arange(n)]:
                targets.append(np.where(y == 1, 1.0, -1.0))
                weights.append(self._row_weights(y, rows, sample_weight))
            plan.append((j, [test for _, test in folds]))
        if plan:
            coef, intercept = shared_ridge(X, np.column_stack(targets), np.column_stack(weights),
                                           alpha=self.alpha)
            decision = np.asarray(X @ coef) + intercept
            column = 0
            for j, tests in plan:
                oof = np.zeros(n)
                for test in tests:
                    oof[test] = decision[test, column]
                    column += 1
                a, b = self._platt(oof, Y[:, j])
                self.estimators_[j] = (RidgeFit(coef[:, column].copy(), float(intercept[column])), a, b)
                self.oof_proba_[:, j] = 1.0 / (1.0 + np.exp(-(a * oof + b)))
                column += 1
        self.linear_ = _stacked_linear(self.estimators_)
        return self

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "estimators_")
        out = np.zeros((X.shape[0], len(self.estimators_)))
        if self.linear_ is not None:
            columns, weights, intercepts = self.linear_
            out[:, columns] = np.asarray(X @ weights) + intercepts
        return out

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probability of each code, shape (n_samples, n_codes)."""
        check_is_fitted(self, "estimators_")
        decision = self.decision_function(X)
        out = np.zeros_like(decision)
        for j, est in enumerate(self.estimators_):
            if isinstance(est, tuple):
                _, a, b = est
                out[:, j] = 1.0 / (1.0 + np.exp(-(a * decision[:, j] + b)))
            else:
                out[:, j] = est
        return out

    def predict(self, X) -> np.ndarray:
        """Binary label matrix (probability ≥ 0.5)."""
        return (self.predict_proba(X) >= 0.5).astype(int)


# Training sources that are not this project's own evidence: the shipped demo coding (a
# prior for a project with nothing confirmed yet) and the codebook's texts.
SHIPPED_SOURCES = ("reference", "codebook")
# A project row never weighs more than this many shipped rows.
MAX_PROJECT_WEIGHT = 20.0
# Below this many training rows every feature is kept (min_df 1), from it on min_df 2.
SMALL_TRAINING = 200


def project_weights(project: np.ndarray, shipped_labelled: np.ndarray) -> np.ndarray:
    """Sample weights so that the project's own evidence outweighs the shipped coding.

    As soon as a project has confirmations, together they weigh as much as all shipped
    coded rows (each at most :data:`MAX_PROJECT_WEIGHT`); a project with none learns
    from the shipped coding alone.
    """
    weights = np.ones(len(project))
    n_project = int(project.sum())
    n_shipped = int((shipped_labelled & ~project).sum())
    if n_project:
        weights[project] = min(MAX_PROJECT_WEIGHT, max(1.0, n_shipped / n_project))
    return weights


class ProjectModelSignal(BaseEstimator):
    """Signal 3: a model learned from coded segments (shipped, confirmed, examples, codebook).

    TF-IDF (:class:`CompoundTfidfVectorizer`) and one calibrated linear classifier per
    code (:class:`CalibratedOneVsRest`). Fit it with :func:`project_weights` as sample
    weights so a project's own confirmations outweigh the shipped demo coding.

    Parameters
    ----------
    random_state : int, default=0
        Shuffling of the calibration folds.

    Attributes
    ----------
    vectorizer_ : CompoundTfidfVectorizer
    classifier_ : CalibratedOneVsRest
    oof_proba_ : ndarray of shape (n_samples, n_codes)
        Out-of-fold probabilities of the training rows (for the combiner).
    """

    def __init__(self, *, random_state: int = 0) -> None:
        self.random_state = random_state

    def fit(self, X: Sequence[Sequence[str]], Y: np.ndarray,
            sample_weight: np.ndarray | None = None) -> "ProjectModelSignal":
        """X: content lemmas per training row; Y: binary labels (n_rows, n_codes)."""
        Y = np.asarray(Y)
        self.vectorizer_ = CompoundTfidfVectorizer(min_df=1 if len(Y) < SMALL_TRAINING else 2)
        features = self.vectorizer_.fit_transform(X)
        self.classifier_ = CalibratedOneVsRest(random_state=self.random_state).fit(
            features, Y, sample_weight=sample_weight)
        self.classes_ = self.classifier_.classes_
        self.oof_proba_ = self.classifier_.oof_proba_
        # Feature rows per lemma id of an analyser's lemma table (see predict_proba_ids).
        self._type_rows = feature_rows(self.vectorizer_.type_matrix, len(self.vectorizer_.vocabulary_))
        return self

    def transform(self, X: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """The TF-IDF rows of lemma lists (to tell similar turns from varied ones)."""
        check_is_fitted(self, "vectorizer_")
        return self.vectorizer_.transform(X)

    def predict_proba(self, X: Sequence[Sequence[str]]) -> np.ndarray:
        """Probability of each code for lemma lists, shape (n, n_codes)."""
        check_is_fitted(self, "classifier_")
        return self.classifier_.predict_proba(self.vectorizer_.transform(X))

    def predict_proba_ids(self, lemma_ids: np.ndarray, bounds: np.ndarray, words: Sequence[str],
                          rows: np.ndarray, lemma_weights: np.ndarray | None = None) -> np.ndarray:
        """:meth:`predict_proba` of the segments ``rows`` of an analysed batch, from lemma ids.

        ``lemma_ids``/``bounds`` as in ``BatchAnalysis``, ``words`` the lemma table (id ->
        lemma, the same analyser for the signal's lifetime). ``lemma_weights`` (per lemma
        id) scales each word's count: the project's topic words and metadata words count
        less or not at all (see :func:`.evidence.lemma_weights`).
        """
        check_is_fitted(self, "classifier_")
        types = self._type_rows.upto(words)
        counts = count_matrix(lemma_ids, bounds, rows, types.shape[0], lemma_weights)
        return self.classifier_.predict_proba(self.vectorizer_.transform_types(counts, types))
