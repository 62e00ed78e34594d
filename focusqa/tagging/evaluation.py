"""How good are the suggestions? Held-out evaluation against a reference coding.

Protocols:
- ``cross-round``: train on earlier rounds, test on each later round (2016 -> 2017);
- ``leave-one-document-out``: each document is tested by a tagger trained on the others.

A model is never scored on a document it was trained on: every fold trains a new
tagger on its training documents only (not the shipped reference), and the fold
is refused if a test document is among them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..codebook import Codebook, load_codebook
from ..errors import FocusqaError
from .tagger import Tagger
from .training import TrainingDocument, load_reference

PROTOCOLS = ("cross-round", "leave-one-document-out")
NONE = "(none)"


@dataclass
class Fold:
    name: str
    train: list[TrainingDocument]
    test: list[TrainingDocument]

    def check(self) -> None:
        """Refuse a fold that would score a model on its own training data."""
        overlap = {d.name for d in self.train} & {d.name for d in self.test}
        if overlap:
            raise FocusqaError(f"fold {self.name}: test documents are in the training set: "
                               f"{', '.join(sorted(overlap))}")


@dataclass
class Scores:
    """Agreement of the tagger with the reference on a set of segments."""

    per_code: dict[str, dict[str, float]]
    macro_f1: float
    kappa: float
    alpha: float
    confusion: dict[str, dict[str, int]]
    segments: int


@dataclass
class EvaluationReport:
    protocol: str
    content_only: bool
    folds: list[dict] = field(default_factory=list)
    overall: Scores | None = None


def make_folds(documents: Sequence[TrainingDocument], protocol: str) -> list[Fold]:
    """Split reference documents into train/test folds for a protocol."""
    if protocol not in PROTOCOLS:
        raise FocusqaError(f"unknown protocol '{protocol}' (use {' or '.join(PROTOCOLS)})")
    docs = list(documents)
    if protocol == "leave-one-document-out":
        return [Fold(d.name, [o for o in docs if o.name != d.name], [d]) for d in docs]
    rounds = sorted({d.round for d in docs if d.round})
    if len(rounds) < 2:
        raise FocusqaError("cross-round evaluation needs documents from at least two rounds "
                           "(set 'round' in manifest.csv)")
    return [Fold(f"{'+'.join(rounds[:i])} -> {r}", [d for d in docs if d.round in rounds[:i]],
                 [d for d in docs if d.round == r]) for i, r in enumerate(rounds) if i > 0]


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa of two nominal codings of the same items."""
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb.get(k, 0) for k in ca) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def krippendorff_alpha(a: Sequence[str], b: Sequence[str]) -> float:
    """Krippendorff's alpha (nominal) for two coders without missing values."""
    values = list(a) + list(b)
    n = len(values)
    if n == 0:
        return float("nan")
    disagree_observed = 2 * sum(x != y for x, y in zip(a, b)) / n
    counts = Counter(values)
    disagree_expected = (n * n - sum(c * c for c in counts.values())) / (n * (n - 1))
    return 1.0 if disagree_expected == 0 else 1 - disagree_observed / disagree_expected


def agreement(reference: list[frozenset[str]], predicted: list[list[str]], ref_top: list[str],
              codes: Sequence[str]) -> Scores:
    """Per-code precision/recall/F1, macro-F1, kappa and alpha on the top code, confusion."""
    per_code: dict[str, dict[str, float]] = {}
    for code in codes:
        tp = sum(code in r and code in p for r, p in zip(reference, predicted))
        fp = sum(code not in r and code in p for r, p in zip(reference, predicted))
        fn = sum(code in r and code not in p for r, p in zip(reference, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_code[code] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    pred_top = [p[0] if p else NONE for p in predicted]
    # The reference does not rank a segment's codes, so the tagger's top code agrees
    # when it is any of them; otherwise the reference's first code is compared.
    ref_top = [p if p in r else t for p, r, t in zip(pred_top, reference, ref_top)]
    confusion: dict[str, dict[str, int]] = {}
    for r, p in zip(ref_top, pred_top):
        confusion.setdefault(r, {}).setdefault(p, 0)
        confusion[r][p] += 1
    present = [c for c in codes if per_code[c]["support"] > 0]
    macro = float(np.mean([per_code[c]["f1"] for c in present])) if present else 0.0
    return Scores(per_code, macro, cohen_kappa(ref_top, pred_top), krippendorff_alpha(ref_top, pred_top),
                  confusion, len(reference))


def _test_segments(doc: TrainingDocument, content_only: bool) -> list[int]:
    return [i for i, s in enumerate(doc.segments) if not (content_only and s.role == "moderator")]


def evaluate(reference: str | Path | None = None, *, protocol: str = "cross-round",
             codebook: Codebook | None = None, content_only: bool = False,
             threshold: float | None = None, documents: Sequence[TrainingDocument] | None = None,
             tagger_factory=None) -> EvaluationReport:
    """Train on each fold's training documents and score the held-out ones.

    content_only removes every moderator turn from the test input (and the scoring),
    so only what participants say counts, without the interview structure.
    """
    codebook = codebook or load_codebook()
    docs = list(documents) if documents is not None else load_reference(reference, codebook=codebook)
    factory = tagger_factory or (lambda: Tagger(codebook, threshold=threshold))
    report = EvaluationReport(protocol, content_only)
    all_ref, all_pred, all_top = [], [], []
    for fold in make_folds(docs, protocol):
        fold.check()
        tagger = factory().fit(fold.train)
        ref, pred, top = [], [], []
        for doc in fold.test:
            positions = _test_segments(doc, content_only)
            segments = [doc.segments[i] for i in positions]
            suggestions = tagger.suggest(segments)
            for i, items in zip(positions, suggestions):
                ref.append(doc.labels.get(i, frozenset()))
                pred.append([s.code_id for s in items])
                top.append(_reference_top(doc, i))
        scores = agreement(ref, pred, top, codebook.ids)
        report.folds.append({"name": fold.name, "train": [d.name for d in fold.train],
                             "test": [d.name for d in fold.test], "scores": scores})
        all_ref += ref
        all_pred += pred
        all_top += top
    report.overall = agreement(all_ref, all_pred, all_top, codebook.ids)
    return report


def _reference_top(doc: TrainingDocument, position: int) -> str:
    primary = doc.primary.get(position)
    if primary:
        return primary
    labels = doc.labels.get(position, frozenset())
    return sorted(labels)[0] if labels else NONE
