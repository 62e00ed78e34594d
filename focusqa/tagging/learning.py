"""The learning curve: an evaluator confirms k turns per code, the tagger is scored on the rest.

The simulation does what the app lets an evaluator do. The tagger starts from what a
new project has (the shipped prior, the codebook and its anchor examples); the app
offers turns in :func:`~focusqa.tagging.active.confirmation_order`; the evaluator (one
of the dev set's readers) codes each offered turn as they coded it on paper; after
each batch the tagger is refitted. At every k the tagger's top code is compared with
both readers' on turns nobody confirmed, so a figure never includes a turn the
model trained on (:func:`check_held_out` refuses that): per seed, half of the coded turns
are set aside before the first confirmation and scored at every k.

:func:`examples_curve` measures the other way in: ``focusqa tag FILE --examples``, where
the evaluator hands k paragraphs per code, picked at random, as one-paragraph examples
without their place in the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..errors import FocusqaError
from .active import confirmation_order, offerable
from .devsets import NONE, DevSet
from .evaluation import cohen_kappa
from .tagger import Tagger
from .training import TrainingDocument, example_segment

KS = (0, 2, 5, 10, 20)
BATCH = 10  # confirmations between two refits, as after a batch in the app
TEST_SHARE = 0.5


@dataclass
class CurvePoint:
    k: int
    seed: int
    confirmed: int           # turns the simulated evaluator confirmed
    tested: int              # turns scored (never confirmed)
    kappa: float             # tagger vs the evaluator (reader a)
    kappa_other: float       # tagger vs the other reader (b)
    ceiling: float           # reader a vs reader b on the same turns


@dataclass
class LearningCurve:
    devset: str
    points: list[CurvePoint] = field(default_factory=list)

    def summary(self) -> list[dict]:
        """Per k: mean and spread (min, max) over seeds."""
        out = []
        for k in sorted({p.k for p in self.points}):
            at = [p for p in self.points if p.k == k]
            kappas = np.array([p.kappa for p in at])
            out.append({"k": k, "seeds": len(at), "kappa": float(kappas.mean()),
                        "min": float(kappas.min()), "max": float(kappas.max()),
                        "kappa_other": float(np.mean([p.kappa_other for p in at])),
                        "ceiling": float(np.mean([p.ceiling for p in at])),
                        "confirmed": float(np.mean([p.confirmed for p in at])),
                        "tested": float(np.mean([p.tested for p in at]))})
        return out


def check_held_out(confirmed: set[tuple[int, int]], tested: Sequence[tuple[int, int]]) -> None:
    """Refuse a score on a turn the tagger trained on."""
    overlap = confirmed.intersection(tested)
    if overlap:
        raise FocusqaError(f"learning curve: {len(overlap)} scored turns were confirmed (trained on)")


def _top(suggestions) -> str:
    return suggestions[0].code_id if suggestions else NONE


def _agreeing_top(predicted: str, codes: tuple[str, ...]) -> str:
    """A reader's top code, or the tagger's when it is any of that reader's codes."""
    return predicted if predicted in codes else codes[0]


def _training(devset: DevSet, confirmed: dict[tuple[int, int], frozenset[str]]) -> list[TrainingDocument]:
    docs = []
    for number, doc in enumerate(devset.documents):
        labels = {pos: codes for (src, pos), codes in confirmed.items() if src == number}
        if labels:
            docs.append(TrainingDocument(doc.name, doc.segments, labels, None, "project"))
    return docs


def _split(n: int, seed: int, test_share: float) -> tuple[set[int], list[int]]:
    """The scored turns (drawn first, the same for every k) and the pool to confirm from."""
    rng = np.random.default_rng(seed)
    tested = set(rng.permutation(n)[: int(round(test_share * n))].tolist())
    return tested, [i for i in range(n) if i not in tested]


def learning_curve(devset: DevSet, *, base: Sequence[TrainingDocument] = (),
                   ks: Sequence[int] = KS, seeds: Sequence[int] = (0, 1, 2),
                   make_tagger: Callable[[int], Tagger] | None = None,
                   test_share: float = TEST_SHARE) -> LearningCurve:
    """Simulate an evaluator (reader a) confirming up to k turns per code; score held-out turns.

    Per seed, ``test_share`` of the coded turns are set aside first; the evaluator confirms
    from the others only.
    """
    make_tagger = make_tagger or (lambda seed: Tagger(devset.codebook, random_state=seed))
    code_ids = devset.codebook.ids
    gold = {(it.source, it.position): it for it in devset.items}
    keys = list(gold)
    segments = [devset.documents[s].segments[p] for s, p in keys]
    curve = LearningCurve(devset.name)
    for seed in seeds:
        # The scored turns are drawn before anything is confirmed and stay the same for every
        # k, so the curve shows what confirmations teach, not which turns were left over.
        tested, pool = _split(len(keys), seed, test_share)
        confirmed: dict[tuple[int, int], frozenset[str]] = {}
        tagger = make_tagger(seed).fit(list(base))
        for k in sorted(ks):
            tagger = _confirm_up_to(k, tagger, devset, [keys[i] for i in pool], [segments[i] for i in pool],
                                    gold, confirmed, base, make_tagger, seed, code_ids)
            curve.points.append(_score(tagger, devset, [keys[i] for i in sorted(tested)], gold,
                                       confirmed, k, seed))
    return curve


def examples_curve(devset: DevSet, *, base: Sequence[TrainingDocument] = (),
                   ks: Sequence[int] = KS, seeds: Sequence[int] = (0, 1, 2),
                   make_tagger: Callable[[int], Tagger] | None = None,
                   test_share: float = TEST_SHARE) -> LearningCurve:
    """As ``focusqa tag --examples``: k random pool paragraphs per code (reader a's primary
    code) as one-paragraph examples with reader a's codes; score the same held-out turns
    as :func:`learning_curve`."""
    make_tagger = make_tagger or (lambda seed: Tagger(devset.codebook, random_state=seed))
    gold = {(it.source, it.position): it for it in devset.items}
    keys = list(gold)
    curve = LearningCurve(devset.name)
    for seed in seeds:
        tested, pool = _split(len(keys), seed, test_share)
        by_code: dict[str, list[tuple[int, int]]] = {}
        for i in np.random.default_rng(seed + 1).permutation(pool).tolist():
            primary = gold[keys[i]].readers["a"][0]
            if primary != NONE:
                by_code.setdefault(primary, []).append(keys[i])
        for k in sorted(ks):
            chosen = [key for picked in by_code.values() for key in picked[:k]]
            examples = [TrainingDocument(f"example:{n}", [example_segment(gold[key].text)],
                                         {0: frozenset(c for c in gold[key].readers["a"] if c != NONE)},
                                         None, "examples")
                        for n, key in enumerate(chosen)]
            tagger = make_tagger(seed).fit(list(base) + examples)
            confirmed = {key: frozenset() for key in chosen}
            curve.points.append(_score(tagger, devset, [keys[i] for i in sorted(tested)], gold,
                                       confirmed, k, seed))
    return curve


def _confirm_up_to(k, tagger, devset, keys, segments, gold, confirmed, base, make_tagger, seed, code_ids):
    """Confirm offered turns until every code has k confirmations (or nothing useful is left)."""
    def missing() -> np.ndarray:
        counts = np.zeros(len(code_ids), int)
        for codes in confirmed.values():
            for code in codes:
                counts[code_ids.index(code)] += 1
        return counts

    while True:
        counts = missing()
        needed = {code_ids[j] for j in np.flatnonzero(counts < k)}
        open_keys = [i for i, key in enumerate(keys) if key not in confirmed and offerable(segments[i].text)]
        if not needed or not open_keys:
            return tagger
        # The evaluator walks the app's offer order and confirms the offered turns that carry a
        # code still short of k examples (the others stay unconfirmed and are scored).
        scores = _offer_scores(tagger, devset, keys)
        available = np.zeros(len(keys), bool)
        available[open_keys] = True
        order = confirmation_order(scores, tagger.vectors(segments), available, counts,
                                   limit=len(open_keys), random_state=seed)
        batch = 0
        for i in order:
            codes = frozenset(c for c in gold[keys[i]].readers["a"] if c != NONE)
            if not needed & codes:
                continue
            confirmed[keys[i]] = codes
            batch += 1
            counts = missing()
            needed = {code_ids[j] for j in np.flatnonzero(counts < k)}
            if batch >= BATCH or not needed:
                break
        if batch == 0:
            return tagger
        tagger = make_tagger(seed).fit(list(base) + _training(devset, confirmed))


def _offer_scores(tagger: Tagger, devset: DevSet, keys: Sequence[tuple[int, int]]) -> np.ndarray:
    """The scores behind the suggestions of the turns ``keys``, each document scored whole
    (its moderator's questions in place), as the app scores them for its offers."""
    everything = [seg for doc in devset.documents for seg in doc.segments]
    starts = np.cumsum([0] + [len(doc.segments) for doc in devset.documents])
    scores, _suggested = tagger.offer_scores(everything)
    return scores[[starts[src] + pos for src, pos in keys]]


def _score(tagger, devset, tested, gold, confirmed, k, seed) -> CurvePoint:
    check_held_out(set(confirmed), tested)
    predicted: dict[tuple[int, int], str] = {}
    for number, doc in enumerate(devset.documents):
        wanted = {pos for src, pos in tested if src == number}
        if not wanted:
            continue
        for pos, items in enumerate(tagger.suggest(list(doc.segments))):
            if pos in wanted:
                predicted[(number, pos)] = _top(items)
    tags = [predicted[key] for key in tested]
    a = [_agreeing_top(t, gold[key].readers["a"]) for t, key in zip(tags, tested)]
    b = [_agreeing_top(t, gold[key].readers["b"]) for t, key in zip(tags, tested)]
    a_vs_b = [gold[key].readers["a"][0] for key in tested]
    b_vs_a = [_agreeing_top(gold[key].readers["a"][0], gold[key].readers["b"]) for key in tested]
    return CurvePoint(k, seed, len(confirmed), len(tested), cohen_kappa(a, tags), cohen_kappa(b, tags),
                      cohen_kappa(a_vs_b, b_vs_a))
