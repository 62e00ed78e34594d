"""What to confirm next, and how far to trust each code: the evaluator's side of learning.

``confirmation_order`` ranks the turns whose confirmation teaches the model most:
alternately the likeliest turn for the code with the fewest confirmations (seeded by
its term hits, which raise that code's score) and the turn the tagger is least sure
about (the smallest margin between its two best codes), skipping turns too similar to
ones already offered, so the evaluator sees varied examples.

``trust_per_code`` tells how well the tagger agrees with the evaluator's own
confirmations on turns it did not train on (κ per code with a bootstrap interval).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

# A candidate this similar (cosine of TF-IDF vectors) to a turn already offered is skipped.
MAX_SIMILARITY = 0.6
# How many of the best candidates per step are looked at for diversity.
CANDIDATES = 40


@dataclass(frozen=True)
class Offer:
    """A row of the scores offered for confirmation, and why: the likeliest turn for
    ``code`` (then the code with the fewest confirmations), or, when ``code`` is None, the
    turn the tagger is least sure about."""

    row: int
    code: int | None


def confirmation_order(scores: np.ndarray, vectors: sp.spmatrix, available: np.ndarray,
                       confirmed_per_code: Sequence[int], limit: int,
                       random_state: int | None = None) -> list[int]:
    """Rows of ``scores`` (turns × codes) in the order they should be offered, at most ``limit``.

    ``vectors`` are the turns' TF-IDF rows (for variety), ``available`` marks the turns
    that may be offered (participant turns nobody has decided on), ``confirmed_per_code``
    how many confirmations each code already has.
    """
    return [offer.row for offer in confirmation_offers(scores, vectors, available, confirmed_per_code,
                                                       limit, random_state)]


def confirmation_offers(scores: np.ndarray, vectors: sp.spmatrix, available: np.ndarray,
                        confirmed_per_code: Sequence[int], limit: int,
                        random_state: int | None = None) -> list[Offer]:
    """:func:`confirmation_order` with the reason for each turn (:class:`Offer`)."""
    rng = np.random.default_rng(random_state)
    scores = np.asarray(scores, dtype=float)
    # A little noise breaks ties differently per seed without changing clear orders.
    scores = scores + rng.uniform(0, 1e-6, size=scores.shape)
    vectors = normalize(sp.csr_matrix(vectors))
    free = np.asarray(available, bool).copy()
    counts = np.asarray(confirmed_per_code, dtype=float).copy()
    ranked = np.sort(scores, axis=1)
    margin = ranked[:, -1] - (ranked[:, -2] if scores.shape[1] > 1 else 0.0)
    offers: list[Offer] = []
    chosen: list[int] = []
    while len(chosen) < limit and free.any():
        if len(chosen) % 2 == 0:
            code = int(np.argmin(counts + rng.uniform(0, 1e-3, size=len(counts))))
            key = -scores[:, code]
        else:
            code, key = None, margin
        rows = np.flatnonzero(free)
        candidates = rows[np.argsort(key[rows], kind="stable")[:CANDIDATES]]
        pick = _most_varied(candidates, vectors, chosen)
        chosen.append(pick)
        offers.append(Offer(pick, code))
        free[pick] = False
        counts[code if code is not None else int(np.argmax(scores[pick]))] += 1
    return offers


def _most_varied(candidates: np.ndarray, vectors: sp.csr_matrix, chosen: list[int]) -> int:
    """The first candidate not too similar to a turn already chosen (else the first)."""
    if not chosen:
        return int(candidates[0])
    similarity = (vectors[candidates] @ vectors[chosen].T).toarray().max(axis=1)
    fresh = np.flatnonzero(similarity < MAX_SIMILARITY)
    return int(candidates[fresh[0]] if len(fresh) else candidates[0])


@dataclass
class CodeTrust:
    """Agreement of the tagger with the evaluator's confirmations of one code."""

    code_id: str
    confirmations: int          # confirmed turns with this code (positives)
    decided: int                # held-out turns scored
    kappa: float | None
    low: float | None
    high: float | None


def binary_kappa(truth: np.ndarray, predicted: np.ndarray) -> float | None:
    """Cohen's κ of two yes/no codings; None when it is undefined (one class only)."""
    truth, predicted = np.asarray(truth, bool), np.asarray(predicted, bool)
    n = len(truth)
    if n == 0:
        return None
    observed = float(np.mean(truth == predicted))
    p_true, p_pred = truth.mean(), predicted.mean()
    expected = p_true * p_pred + (1 - p_true) * (1 - p_pred)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1 - expected)


def trust_per_code(code_ids: Sequence[str], truth: Sequence[frozenset[str]],
                   predicted: Sequence[Sequence[str]], *, bootstrap: int = 300,
                   random_state: int = 0) -> list[CodeTrust]:
    """κ per code of held-out predictions against the evaluator's decisions, with a 95 % interval.

    ``truth`` and ``predicted`` are per held-out turn: the codes the evaluator confirmed
    (an empty set when they rejected every suggestion) and the codes the tagger suggested.
    """
    rng = np.random.default_rng(random_state)
    n = len(truth)
    draws = rng.integers(0, n, size=(bootstrap, n)) if n else np.zeros((0, 0), int)
    out = []
    for code in code_ids:
        t = np.array([code in codes for codes in truth], bool)
        p = np.array([code in codes for codes in predicted], bool)
        kappa = binary_kappa(t, p)
        low = high = None
        if kappa is not None and n >= 5:
            values = [k for k in (binary_kappa(t[d], p[d]) for d in draws) if k is not None]
            if values:
                low, high = (float(x) for x in np.percentile(values, [2.5, 97.5]))
        out.append(CodeTrust(code, int(t.sum()), n, kappa, low, high))
    return out


def held_out_predictions(fit: Callable[[list[int]], Callable[[list[int]], list[list[str]]]],
                         decided: Sequence[int], folds: int = 5,
                         random_state: int = 0) -> dict[int, list[str]]:
    """Predictions for every decided turn from a tagger that did not train on it.

    ``fit(training_turns)`` trains on the other folds' decisions and returns a function
    that suggests codes for a list of turns. Each turn is scored exactly once, by the
    fold that left it out.
    """
    decided = list(decided)
    if len(decided) < 2:
        return {}
    order = np.random.default_rng(random_state).permutation(len(decided))
    groups = np.array_split(order, min(folds, len(decided)))
    out: dict[int, list[str]] = {}
    for group in groups:
        test = [decided[i] for i in group]
        held = set(test)
        train = [t for t in decided if t not in held]
        predict = fit(train)
        for turn, codes in zip(test, predict(test)):
            out[turn] = list(codes)
    return out


# ---------------------------------------------------------------- on a project's store
# A turn shorter than this ("Tak selv.", "Præcis.") teaches nothing when confirmed.
MIN_OFFER_WORDS = 6


def offerable(text: str) -> bool:
    """Whether a turn says enough to be worth offering for confirmation."""
    return len(text.split()) >= MIN_OFFER_WORDS


@dataclass(frozen=True)
class NextTurn:
    """A turn Kodning offers for confirmation, with the reason the evaluator is shown.

    ``reason`` is "code" (the likeliest turn for ``codes[0]``, the code with the fewest
    confirmations), "unsure" (the tagger hesitates between ``codes[0]`` and ``codes[1]``)
    or "blind" (it suggests no code: if the turn belongs under one, saying so teaches the
    model words it does not know yet; talk beside the interview needs no decision). A turn
    picked for a code is "blind" too when the tagger suggests nothing for it: once the
    project's substantive turns are decided, the likeliest left for a code is often small
    talk, and asking "is this code 3?" of a remark about parking misleads. A turn picked
    for a code its suggestions do not show is "unsure" between the code shown first and
    that code: asking "is this code 3?" beside a suggestion of code 4 misleads as well.
    ``confirmed`` is how many turns carry ``codes[0]`` so far, for the reason "code".
    """

    segment_id: int
    reason: str
    codes: tuple[str, ...]
    confirmed: int = 0


def next_to_confirm(store, tagger, limit: int = 10, random_state: int = 0,
                    skip: Iterable[int] = ()) -> list[NextTurn]:
    """The participant turns to offer next in Kodning (see :func:`confirmation_order`).

    Never offered: turns a person already decided on, turns in an interview someone marked
    as finished (what is left there uncoded was left on purpose), and the turns in ``skip``
    (those the evaluator passed over). The per-code counts are the turns people confirmed
    the code on, as the trust table counts them.
    """
    from ..config import MACHINE_CODER

    everything = store.segments()
    rows = [i for i, s in enumerate(everything) if s.role != "moderator"]
    segments = [everything[i] for i in rows]
    if not segments:
        return []
    human = [c for c in store.codings(origin="human") if c.coder != MACHINE_CODER]
    decided = {c.segment_id for c in human}
    finished = set().union(*store.finished_documents().values())
    passed = set(skip)
    counts = np.zeros(len(tagger.code_ids), int)
    index = {c: j for j, c in enumerate(tagger.code_ids)}
    for _segment, code_id in {(c.segment_id, c.code_id) for c in human if c.status == "accepted"}:
        if code_id in index:
            counts[index[code_id]] += 1
    available = np.array([s.id not in decided and s.id not in passed and s.document_id not in finished
                          and offerable(s.text) for s in segments], bool)
    if not available.any():
        return []
    # Scored with the moderator's questions in place, as the suggestions shown are.
    scores, suggested = (values[rows] for values in tagger.offer_scores(everything))
    def reason(offer: Offer) -> NextTurn:
        segment_id = segments[offer.row].id
        shown = suggested[offer.row]
        if not shown.any():
            return NextTurn(segment_id, "blind", ())
        if offer.code is not None and shown[offer.code]:
            return NextTurn(segment_id, "code", (tagger.code_ids[offer.code],), int(counts[offer.code]))
        best = np.argsort(-scores[offer.row], kind="stable")[:2].tolist()
        if offer.code is not None:   # picked for a code the turn's suggestions do not show
            best = [best[0] if best[0] != offer.code else best[1], offer.code]
        return NextTurn(segment_id, "unsure", tuple(tagger.code_ids[j] for j in best))

    return [reason(offer) for offer in
            confirmation_offers(scores, tagger.vectors(segments), available, counts, limit, random_state)]


def project_trust(store, make_tagger, base=(), folds: int = 5) -> list[CodeTrust]:
    """Per code, κ of the tagger against the evaluators' decisions on turns it did not train on.

    Every decided turn is predicted by a tagger trained on the shipped prior ``base`` and
    the decisions of the other folds (``make_tagger()`` gives an unfitted tagger).
    """
    from .training import TrainingDocument, store_documents

    documents = store_documents(store)
    # The prior must not already hold the decisions being judged (the demo project's own
    # reference coding is also the shipped prior).
    names = {d.name for d in documents}
    base = [d for d in base if d.name not in names]
    decided = [(d, pos) for d in range(len(documents)) for pos in sorted(documents[d].labels)]

    def fit(train: list[tuple[int, int]]):
        keep: dict[int, dict[int, frozenset[str]]] = {}
        for d, pos in train:
            keep.setdefault(d, {})[pos] = documents[d].labels[pos]
        training = [TrainingDocument(documents[d].name, documents[d].segments, labels, documents[d].round, "store")
                    for d, labels in keep.items()]
        tagger = make_tagger().fit(list(base) + training)

        def predict(test: list[tuple[int, int]]) -> list[list[str]]:
            out: dict[tuple[int, int], list[str]] = {}
            for d in sorted({d for d, _ in test}):
                suggestions = tagger.suggest(list(documents[d].segments))
                for pos in (p for dd, p in test if dd == d):
                    out[(d, pos)] = [s.code_id for s in suggestions[pos]]
            return [out[t] for t in test]
        return predict

    predicted = held_out_predictions(fit, decided, folds=folds)
    codebook = make_tagger().codebook
    turns = [t for t in decided if t in predicted]
    return trust_per_code(codebook.ids, [documents[d].labels[pos] for d, pos in turns],
                          [predicted[t] for t in turns])
