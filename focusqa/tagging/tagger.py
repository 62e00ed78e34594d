"""The tagger: segments in, scored code suggestions with evidence out.

It reads top to bottom as a pipeline (docs/tagging.md, "The house"):

1. analysis (``analysis.py``): content lemmas and codebook term matches per segment;
2. signals, each a small scikit-learn estimator: the interview structure
   (``StructureSignal``, ``structure.py``), the codebook's terms (``TermSignal``,
   ``terms.py``) and a model learned from coded segments (``ProjectModelSignal``,
   ``model.py``);
3. the combiner (``Combiner``, ``combiner.py``): one score per segment and code, and the
   suggestions with their evidence.

Array-level speed work lives in ``fastpaths.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

from ..codebook import Codebook
from ..types import CodeSuggestion
from .analysis import Analyser, SegmentAnalysis
from .combiner import DEFAULT_FLOOR, Combiner, SignalScores, neighbour_context, signal_features
from .evidence import lemma_weights, metadata_words
from .fastpaths import Lazy, paused_gc
from .model import SHIPPED_SOURCES, ProjectModelSignal, project_weights
from .structure import BLOCKS_PER_DOCUMENT, StructureSignal, block_numbers, catch_all_point, document_groups
from .terms import TermSignal
from .training import TrainingDocument, codebook_documents, merge_documents, store_documents


@dataclass
class TrainingRows:
    """The labelled participant segments of the training documents, in text order.

    ``coded`` marks rows from coded text (not the codebook's seed texts: the combiner
    learns from those only); ``project`` rows are this project's own evidence.
    ``unlabelled`` holds the lemmas of the participant segments between them that nobody
    coded. ``turns`` lists every participant segment in text order: whether it is a row
    (``turn_is_row``), its index among the rows or in ``unlabelled`` (``turn_index``) and
    its guide-question block (``turn_groups``), so a row's context is read from the turns
    really beside it, as when new text is scored.
    """

    lemmas: list[list[str]]
    Y: np.ndarray
    rules: np.ndarray
    prior: np.ndarray
    structured: np.ndarray
    coded: np.ndarray
    project: np.ndarray
    unlabelled: list[list[str]]
    turn_is_row: np.ndarray
    turn_index: np.ndarray
    turn_groups: np.ndarray


def prose_positions(segments: Sequence, documents: Sequence[range] | None = None) -> list[int]:
    """Positions of the segments whose document has no speaker turns (reports, memos);
    ``documents`` as :func:`document_groups` gives them, if already known."""
    return [i for group in (document_groups(segments) if documents is None else documents)
            if all(getattr(segments[j], "speaker", None) is None for j in group) for i in group]


class Tagger:
    """Suggests codes for segments from interview structure, codebook terms and a learned model.

    Build it with :func:`focusqa.tagging.build_tagger`; ``fit`` trains on
    :class:`TrainingDocument` lists, ``refit(store)`` retrains with the latest
    accepted codings, ``suggest(segments)`` scores new text.
    """

    def __init__(self, codebook: Codebook, *, threshold: float | None = None,
                 floor: float = DEFAULT_FLOOR, random_state: int = 0) -> None:
        self.codebook = codebook
        self.threshold = threshold
        self.floor = floor
        self.random_state = random_state
        self.analyser = Analyser(codebook)
        self.code_ids = [c.id for c in codebook.codes]
        self.base_documents: list[TrainingDocument] = []
        self.documents_: list[TrainingDocument] | None = None

    # --------------------------------------------------------------------- fit
    def fit(self, documents: Sequence[TrainingDocument]) -> "Tagger":
        """Train the signals and the combiner on labelled documents.

        The codebook's own texts are always added as seed examples, so a tagger with
        no coded documents still works from the codebook alone.
        """
        numbers = {c.number: i for i, c in enumerate(self.codebook.codes) if c.number is not None}
        catch_all = catch_all_point([c.label_da for c in self.codebook.codes],
                                    [c.definition for c in self.codebook.codes])
        self.structure_ = StructureSignal(numbers=numbers, catch_all=catch_all).fit(
            self._code_lemmas(), range(len(self.code_ids)))
        self.terms_ = TermSignal(code_ids=self.code_ids).fit([])  # the codebook's own term weights
        rows = self._training_rows(list(documents) + codebook_documents(self.codebook))
        weights = project_weights(rows.project, rows.coded)
        self.model_ = ProjectModelSignal(random_state=self.random_state).fit(rows.lemmas, rows.Y,
                                                                              sample_weight=weights)
        # The combiner sees the model's out-of-fold probabilities, never a score on the
        # rows that model was trained on.
        context = self._training_context(rows)
        features = signal_features(self.model_.oof_proba_, rows.rules, rows.prior, context)
        coded = rows.coded
        self.combiner_ = Combiner().fit(features[coded], rows.Y[coded], rows.structured[coded], weights[coded])
        self.documents_ = list(documents)
        self.n_training_segments_ = int(coded.sum())
        # With only the shipped transcripts coded, prose is read from the codebook alone: the
        # shipped coding is a prior for focus-group turns, and in reports and memos it
        # outvotes the codebook with the demo's wording (docs/tagging.md). Where a code's
        # weights are still the defaults, the combiner lowers its floor.
        self.prose_tagger_ = None
        if coded.any() and not (coded & rows.project).any():
            self.prose_tagger_ = Tagger(self.codebook, threshold=self.threshold, floor=self.floor,
                                        random_state=self.random_state).fit([])
        return self

    def refit(self, store) -> "Tagger":
        """Retrain with the base documents plus the codings accepted in ``store`` now."""
        return self.fit(merge_documents(self.base_documents, store_documents(store)))

    def _code_lemmas(self) -> list[list[str]]:
        """Per code, the lemmas of its label, question, definition, inclusion note and terms."""
        texts = [" ".join([c.label_da, c.label_en, c.question, c.definition, c.include, *c.terms])
                 for c in self.codebook.codes]
        return [a.lemmas for a in self.analyser.analyse(texts, cache=True)]

    def _training_context(self, rows: TrainingRows) -> np.ndarray:
        """Each row's neighbour context as :meth:`score` computes it for new text: from the
        participant turns really before and after it, coded or not. A confirmed turn's
        neighbours are mostly turns nobody coded; reading its context from the next
        confirmed turn instead would teach the combiner a context that scoring never sees."""
        proba = self.model_.oof_proba_
        if rows.unlabelled:
            proba = np.vstack([proba, self.model_.predict_proba(rows.unlabelled)])
        n = len(rows.Y)
        in_text_order = np.where(rows.turn_is_row, rows.turn_index, n + rows.turn_index)
        context = neighbour_context(proba[in_text_order], rows.turn_groups)
        out = np.zeros((n, proba.shape[1]))
        out[rows.turn_index[rows.turn_is_row]] = context[rows.turn_is_row]
        return out

    def _training_rows(self, documents: Sequence[TrainingDocument]) -> TrainingRows:
        """Every labelled participant segment of ``documents``, with its signals."""
        k = len(self.code_ids)
        index = {c: j for j, c in enumerate(self.code_ids)}
        lemmas, ys, rules, prior, structured, coded, project = [], [], [], [], [], [], []
        unlabelled, turn_is_row, turn_index, turn_groups = [], [], [], []
        for doc_index, doc in enumerate(documents):
            segments = list(doc.segments)
            analyses: list[SegmentAnalysis] = self.analyser.analyse([s.text for s in segments], cache=True)
            doc_rules = self.terms_.decision_function([a.terms for a in analyses])
            reading = self.structure_.predict(segments, lemmas=[a.lemmas for a in analyses],
                                              sizes=np.array([len(a.lemmas) for a in analyses]),
                                              terms=doc_rules)
            blocks = block_numbers(reading.priors)
            for pos, role in enumerate(reading.roles):
                if role == "moderator":
                    continue
                labels = doc.labels.get(pos)
                turn_is_row.append(labels is not None)
                turn_index.append(len(ys) if labels is not None else len(unlabelled))
                turn_groups.append(doc_index * BLOCKS_PER_DOCUMENT + blocks[pos])
                if labels is None:
                    unlabelled.append(analyses[pos].lemmas)
                    continue
                y = np.zeros(k, dtype=int)
                for code in labels:
                    if code in index:
                        y[index[code]] = 1
                lemmas.append(analyses[pos].lemmas)
                ys.append(y)
                rules.append(doc_rules[pos])
                prior.append(reading.strength[pos])
                # Training keeps the document's flag (it has a moderator or headings) even
                # outside a section; scoring reads such a segment as plain content.
                structured.append(reading.priors[pos].structured)
                coded.append(doc.source != "codebook")
                project.append(doc.source not in SHIPPED_SOURCES)
        return TrainingRows(lemmas, np.array(ys).reshape(-1, k), np.array(rules).reshape(-1, k),
                            np.array(prior).reshape(-1, k), np.array(structured, bool), np.array(coded, bool),
                            np.array(project, bool), unlabelled, np.array(turn_is_row, bool),
                            np.array(turn_index, dtype=int), np.array(turn_groups, dtype=int))

    # ----------------------------------------------------------------- scoring
    def score(self, segments: Sequence, *,
              documents: Sequence[range] | None = None) -> tuple[np.ndarray, SignalScores]:
        """Combined scores (n_segments, n_codes) and the signals behind them (``documents``:
        the segments' :func:`document_groups`, if already known)."""
        if self.documents_ is None:
            raise RuntimeError("the tagger is not fitted; use focusqa.tagging.build_tagger()")
        segments = list(segments)
        n, k = len(segments), len(self.code_ids)
        # 1. What the pipeline finds in each segment.
        batch = self.analyser.analyse_batch([s.text for s in segments])
        # 2a. The interview structure reads every term at the codebook's own weights.
        documents = document_groups(segments) if documents is None else documents
        reading = self.structure_.predict(
            segments, lemmas=Lazy(batch.lemmas, range(n)), sizes=batch.sizes(),
            terms=self.terms_.decision_function(batch.terms), documents=documents,
            similarity=lambda positions: self.structure_.similarity_of_ids(batch.lemma_ids, batch.bounds,
                                                                           batch.words, positions))
        content = reading.content
        participants = np.flatnonzero(content)
        # 2b. As evidence for a code, the project's topic words and its metadata count less
        # or not at all: the term signal learns that from the participants' text.
        metadata = metadata_words(segments)
        terms = clone(self.terms_).fit(batch.terms.take(participants), metadata=metadata)
        rules = terms.decision_function(batch.terms)
        # 2c. The project model, on the participants' words weighted the same way.
        model = np.zeros((n, k))
        if content.any():
            weights = lemma_weights(batch.lemma_ids, batch.bounds, participants, batch.words, metadata)
            model[content] = self.model_.predict_proba_ids(batch.lemma_ids, batch.bounds, batch.words,
                                                           participants, weights)
        # 3. The combiner, with the model's view of the neighbouring turns as context.
        context = np.zeros_like(model)
        context[content] = neighbour_context(model[content], reading.blocks(documents)[content])
        signals = SignalScores(model, rules, reading.strength, context, reading.in_section, content,
                               reading.priors, batch.terms)
        return self.combiner_.combine(signals), signals

    def suggest(self, segments: Sequence, *, threshold: float | None = None) -> list[list[CodeSuggestion]]:
        """Per segment, the codes above threshold (highest first); moderator turns get none.

        When no code clears its threshold, the top code is still suggested alone if
        its score clears the floor. ``threshold`` (or the tagger's) replaces the
        learned per-code thresholds.
        """
        segments = list(segments)
        if not segments:
            return []
        threshold = threshold if threshold is not None else self.threshold
        documents = document_groups(segments)
        prose = prose_positions(segments, documents) if self.prose_tagger_ is not None else []
        with paused_gc():
            if not prose:
                out = self._suggest_scored(segments, threshold, documents)
            else:
                out = [[] for _ in segments]
                spoken = np.setdiff1d(np.arange(len(segments)), prose).tolist()
                if spoken:
                    for i, items in zip(spoken, self._suggest_scored([segments[i] for i in spoken], threshold)):
                        out[i] = items
        if prose:
            for i, items in zip(prose, self.prose_tagger_.suggest([segments[i] for i in prose],
                                                                  threshold=threshold)):
                out[i] = items
        return out

    def _suggest_scored(self, segments: list, threshold: float | None,
                        documents: Sequence[range] | None = None) -> list[list[CodeSuggestion]]:
        """The suggestions of :meth:`score`'s scores. A method of its own so that the
        signals behind them are freed before :func:`paused_gc` lets the collector run
        again (it would otherwise walk them all once)."""
        scores, signals = self.score(segments, documents=documents)
        return self.combiner_.suggest(scores, signals, self.codebook.codes, floor=self.floor, threshold=threshold)

    def offer_scores(self, segments: Sequence) -> tuple[np.ndarray, np.ndarray]:
        """The scores behind :meth:`suggest` (n_segments, n_codes, rounded as shown), and
        which of those codes :meth:`suggest` shows (the same shape, boolean).

        Split as :meth:`suggest` splits: prose read by the codebook-only reader gets that
        reader's scores, so the turns offered for confirmation and the reasons given match
        the suggestions shown.
        """
        segments = list(segments)
        documents = document_groups(segments)
        prose = prose_positions(segments, documents) if self.prose_tagger_ is not None else []
        if prose:
            scores = np.zeros((len(segments), len(self.code_ids)))
            suggested = np.zeros(scores.shape, bool)
            spoken = np.setdiff1d(np.arange(len(segments)), prose).tolist()
            for part, reader in ((spoken, self), (prose, self.prose_tagger_)):
                if part:   # the spoken part has no prose left, so ``self`` reads it whole
                    scores[part], suggested[part] = reader.offer_scores([segments[i] for i in part])
            return scores, suggested
        scores, signals = self.score(segments, documents=documents)
        scores = np.round(scores, 4)
        suggested = np.zeros(scores.shape, bool)
        suggested[self.combiner_.chosen(scores, signals, threshold=self.threshold, floor=self.floor)] = True
        return scores, suggested

    def vectors(self, segments: Sequence) -> sp.csr_matrix:
        """The model's TF-IDF rows of segments (to tell similar turns from varied ones)."""
        analyses = self.analyser.analyse([s.text for s in segments], cache=True)
        return self.model_.transform([a.lemmas for a in analyses])
