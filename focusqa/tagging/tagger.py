"""The tagger: segments in, scored code suggestions with evidence out."""

from __future__ import annotations

import gc
import logging
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from collections.abc import Sequence as SequenceABC
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import scipy.sparse as sp
from spacy.attrs import IDX, LEMMA, ORTH

from ..codebook import Codebook
from ..nlp import build_pipeline
from ..nlp.components import ARRAYS_KEY, MATCHES_KEY, TypeMap
from ..types import CodeSuggestion
from .combiner import ScoreCombiner, signal_features
from .evidence import lemma_weights, metadata_words, term_weights
from .model import CalibratedOneVsRest, CompoundTfidfVectorizer
from .rules import TermEvidence, term_spans, term_weight
from .structure import Prior, QuestionRecognizer, assign_priors, question_cues, recognition_candidates
from .training import TrainingDocument, codebook_documents, merge_documents, store_documents

logger = logging.getLogger(__name__)

DEFAULT_FLOOR = 0.3
# Segments per spaCy Doc when analysing, and the text that joins them.
CHUNK_SEGMENTS = 600
SEPARATOR = "\n\n"
# Content words at which a segment counts as fully substantive for the prior.
SUBSTANCE_LEMMAS = 6
# A word type's packed properties: lemma id << _LEMMA_SHIFT | _KEEP (a content word) | length.
_LEMMA_SHIFT = 34
_KEEP = np.uint64(1 << 33)
_LENGTH = np.uint64((1 << 33) - 1)
# Neighbouring turns count as context only under the same guide question.
BLOCKS_PER_DOCUMENT = 100_000


# The tagger reads the raw matches, not doc.spans (see CodebookMatcher.pipe).
_BULK = {"focusqa_codebook": {"spans": False}}
# No signal uses sentence boundaries, so bulk analysis does not set them.
_UNUSED = ["focusqa_sentences"]


@dataclass
class SegmentAnalysis:
    """What the pipeline found in one segment: content lemmas and term matches."""

    lemmas: list[str]
    terms: TermEvidence


@dataclass
class BatchAnalysis:
    """What the pipeline found in many segments, as flat arrays.

    Segment i's content lemmas are ``words[lemma_ids[bounds[i]:bounds[i + 1]]]``.
    Scoring a large batch works on these arrays (lemma counts, the model's
    features) and builds lemma strings only where a signal needs them.
    """

    lemma_ids: np.ndarray
    bounds: np.ndarray
    words: np.ndarray
    terms: list[TermEvidence]

    def __len__(self) -> int:
        return len(self.terms)

    def lemmas(self, i: int) -> list[str]:
        return self.words[self.lemma_ids[self.bounds[i]:self.bounds[i + 1]]].tolist()

    def sizes(self) -> np.ndarray:
        """Number of content lemmas per segment."""
        return np.diff(self.bounds)

    def segments(self) -> list[SegmentAnalysis]:
        return [SegmentAnalysis(self.lemmas(i), self.terms[i]) for i in range(len(self))]


class _Lazy(SequenceABC):
    """``item(positions[j])`` for each j, computed when indexed (for lemma lists that
    only a few positions need)."""

    def __init__(self, item, positions: Sequence[int]) -> None:
        self.item, self.positions = item, positions

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, j):
        return self.item(self.positions[j])


_MARKUP = re.compile(r"</?[A-Za-z][^>\s]*>?|&[a-z]+;")


# Evidence words longer than this (a run of text without spaces) are shortened for display.
SHOWN_WORD_LENGTH = 60


def _clean_word(text: str) -> str:
    """A matched word for display: without stray HTML markup or trailing punctuation, and
    shortened when it is a long run of text without spaces."""
    cleaned = _MARKUP.sub("", text).strip(" .,;:!?()[]\"'“”«»•-–") or text
    if len(cleaned) > SHOWN_WORD_LENGTH:
        cleaned = cleaned[:SHOWN_WORD_LENGTH - 1] + "…"
    return cleaned


def _blocks(priors: Sequence[Prior]) -> list[int]:
    """Number of the guide question (or heading) each segment falls under, counting from 0."""
    out, block = [], 0
    for prior in priors:
        if prior.kind in ("question", "heading"):
            block += 1
        out.append(block)
    return out


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


_GC_LOCK = threading.Lock()
_GC_USERS = [0, False]  # callers inside _no_gc, and whether the collector was on before the first


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large batch is tagged.

    Tagging a million words allocates millions of small, acyclic objects (lemma
    strings, lists, evidence); the collector would walk them all again and again
    (about a quarter of the run time) and find nothing to free. Reference counting
    still frees everything; the previous state is restored afterwards.
    """
    with _GC_LOCK:
        if _GC_USERS[0] == 0:
            _GC_USERS[1] = gc.isenabled()
            gc.disable()
        _GC_USERS[0] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_USERS[0] -= 1
            if _GC_USERS[0] == 0 and _GC_USERS[1]:
                gc.enable()


def _documents(segments: Sequence) -> list[list[int]]:
    """Positions of ``segments`` grouped by document (document_id, or index restarts)."""
    if not segments:
        return []
    doc_ids = [getattr(seg, "document_id", None) for seg in segments]
    indexes = [getattr(seg, "index", None) for seg in segments]
    starts = [0]
    for i in range(1, len(segments)):
        doc_id, index, last_index = doc_ids[i], indexes[i], indexes[i - 1]
        if doc_id != doc_ids[i - 1] or (doc_id is None and index is not None and last_index is not None
                                        and index <= last_index):
            starts.append(i)
    starts.append(len(segments))
    return [list(range(a, b)) for a, b in zip(starts, starts[1:])]


# Training sources that are not this project's own evidence: the shipped demo coding (a
# prior for a project with nothing confirmed yet) and the codebook's texts.
SHIPPED_SOURCES = ("reference", "codebook")
# A project row never weighs more than this many shipped rows.
MAX_PROJECT_WEIGHT = 20.0


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
        self.nlp = build_pipeline(codebook)
        self.code_ids = [c.id for c in codebook.codes]
        self._numbers = {c.number: i for i, c in enumerate(codebook.codes) if c.number is not None}
        # Lemma hash -> position in _lemma_list / _lemma_array (see _lemma_words).
        self._lemma_types = TypeMap()
        self._orth_types = TypeMap()  # word type -> packed properties (see _token_types)
        self._lemma_list: list[str] = []
        self._lemma_array = np.zeros(0, dtype=object)
        self._lemma_long = np.zeros(0, dtype=bool)
        self._lemma_lock = threading.Lock()
        self._analysis_cache: dict[str, SegmentAnalysis] = {}
        self._clean: dict[str, str] = {}
        self._lowered: dict[str, str] = {}
        self._term_weights: dict[str, float] = {}
        # Per lemma id: the fitted vectorizer's feature row and the question recogniser's
        # vocabulary column (both grow with the lemma table; reset by fit).
        self._type_rows = sp.csr_matrix((0, 0))
        self._recognizer_columns = np.zeros(0, dtype=np.int64)
        self.base_documents: list[TrainingDocument] = []
        self.documents_: list[TrainingDocument] | None = None

    # ----------------------------------------------------------------- analysis
    def _token_types(self, orth: np.ndarray, lemma: Callable[[], np.ndarray]) -> np.ndarray:
        """Per token, its word type's packed properties (see :data:`_KEEP`), looked up
        once per type: lemma id, whether it is a content word, and its length.

        ``lemma`` gives the tokens' lemma hashes; it is only called when new word
        types appear (a word type's lemma never changes).
        """
        values, known = self._orth_types.lookup(orth)
        if not known.all():
            new, first = np.unique(orth[~known], return_index=True)
            hashes = lemma()[np.flatnonzero(~known)[first]]
            ids, long = self._lemma_ids(hashes)
            vocab = self.nlp.vocab
            packed = []
            for h, lemma_id, has_letters in zip(new.tolist(), ids.tolist(), long.tolist()):
                lex = vocab[h]
                content = lex.is_alpha and not lex.is_stop and has_letters
                packed.append((lemma_id << _LEMMA_SHIFT) | (_KEEP if content else 0) | len(lex.orth_))
            self._orth_types.add(new, np.array(packed, dtype=np.uint64))
            values, known = self._orth_types.lookup(orth)
        return values

    def _lemma_ids(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids, long) for an array of lemma hashes: each lemma's position in
        ``_lemma_list``, and whether it has more than one letter."""
        positions, known = self._lemma_types.lookup(hashes)
        if not known.all():
            with self._lemma_lock:
                new = np.unique(hashes[~known])
                new = new[~np.isin(new, self._lemma_types.keys)]
                table = self.nlp.vocab.strings
                words = [table[h] for h in new.tolist()]
                start = len(self._lemma_list)
                self._lemma_list.extend(words)
                self._lemma_array = np.array(self._lemma_list, dtype=object)
                self._lemma_long = np.fromiter((len(w) > 1 for w in self._lemma_list), dtype=bool,
                                               count=len(self._lemma_list))
                self._lemma_types.add(new, np.arange(start, start + len(new), dtype=np.uint64))
            positions, known = self._lemma_types.lookup(hashes)
        positions = positions.astype(np.int64)
        return positions, self._lemma_long[positions]

    def analyse(self, texts: Iterable[str], *, cache: bool = False) -> list[SegmentAnalysis]:
        """Content lemmas and codebook term matches per text (``cache``: remember them by text)."""
        texts = list(texts)
        results: list[SegmentAnalysis | None] = [None] * len(texts)
        todo = []
        for i, text in enumerate(texts):
            hit = self._analysis_cache.get(text) if cache else None
            if hit is not None:
                results[i] = hit
            else:
                todo.append(i)
        for i, analysis in zip(todo, self.analyse_batch([texts[i] for i in todo]).segments()):
            results[i] = analysis
            if cache:
                self._analysis_cache[texts[i]] = analysis
        return results  # type: ignore[return-value]

    def analyse_batch(self, texts: Sequence[str]) -> BatchAnalysis:
        """Run the pipeline over texts; the result as flat arrays.

        Segments are joined into chunks separated by blank lines and each chunk is
        one ``Doc``; results are cut back to segments by character offsets. This
        keeps the per-``Doc`` overhead off the short turns of a transcript (the
        separator is its own whitespace token, so no term matches across turns).
        """
        chunks = [texts[i:i + CHUNK_SEGMENTS] for i in range(0, len(texts), CHUNK_SEGMENTS)]
        joined = [SEPARATOR.join(chunk) for chunk in chunks]
        ids, sizes, terms = [], [], []
        for chunk, text, doc in zip(chunks, joined, self.nlp.pipe(joined, batch_size=4, component_cfg=_BULK, disable=_UNUSED)):
            chunk_ids, chunk_sizes, chunk_terms = self._split(doc, [len(t) for t in chunk], text)
            ids.append(chunk_ids)
            sizes.append(chunk_sizes)
            terms.extend(chunk_terms)
        bounds = np.zeros(len(texts) + 1, dtype=np.int64)
        if sizes:
            np.cumsum(np.concatenate(sizes), out=bounds[1:])
        lemma_ids = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        return BatchAnalysis(lemma_ids, bounds, self._lemma_array, terms)

    def _split(self, doc, lengths: list[int], text: str) -> tuple[np.ndarray, np.ndarray, list[TermEvidence]]:
        """Cut a chunk's token arrays and term matches back into its segments.

        Returns the chunk's content-lemma ids (segment after segment), the number of
        them per segment, and each segment's term evidence. Matched words are sliced
        from ``text`` (the chunk's text) by character offsets instead of building a
        ``Token`` per match.
        """
        starts = np.cumsum([0] + [n + len(SEPARATOR) for n in lengths[:-1]])
        empty = TermEvidence()
        if not len(doc):
            return np.zeros(0, dtype=np.int64), np.zeros(len(lengths), dtype=np.int64), [empty] * len(lengths)
        kept = doc.user_data.get(ARRAYS_KEY) or {}
        n = len(doc)
        orth = kept["orth"] if len(kept.get("orth", ())) == n else doc.to_array(ORTH)
        idx = doc.to_array(IDX).astype(np.int64)
        # Content word (letters only, not a stop word, a lemma of 2+ letters), lemma and
        # length are properties of the word type.
        types = self._token_types(orth, lambda: kept["lemma"] if len(kept.get("lemma", ())) == n
                                  else doc.to_array(LEMMA))
        keep = np.flatnonzero(types & _KEEP)
        ids = (types[keep] >> _LEMMA_SHIFT).astype(np.int64)
        owner = np.searchsorted(starts, idx[keep], side="right") - 1
        sizes = np.bincount(owner, minlength=len(lengths))
        raw = doc.user_data.get(MATCHES_KEY)
        if raw is None:
            spans = term_spans(doc)
            tokens = np.array([token for *_, token in spans], dtype=np.int64)
            segs = (np.searchsorted(starts, idx[tokens], side="right") - 1).tolist()
        elif raw:
            first = np.fromiter((m[2] for m in raw), dtype=np.int64, count=len(raw))
            last = np.fromiter((m[3] for m in raw), dtype=np.int64, count=len(raw)) - 1
            begins = idx[first].tolist()
            ends = (idx[last] + (types[last] & _LENGTH).astype(np.int64)).tolist()
            segs = (np.searchsorted(starts, idx[first], side="right") - 1).tolist()
            spans = [(m[0], m[1], text[b:e], m[2]) for m, b, e in zip(raw, begins, ends)]
        else:
            spans, segs = [], []
        clean, lowered = self._clean, self._lowered
        # Per segment, per code: the matched words as shown and the distinct terms
        # (TermEvidence.add, inlined: this runs once per match).
        words: dict[int, dict[str, list[str]]] = {}
        terms: dict[int, dict[str, set[str]]] = {}
        last_seg, seg_words, seg_terms = -1, {}, {}
        for (code_id, term, word, _), seg in zip(spans, segs):
            if seg != last_seg:
                seg_words = words.get(seg)
                if seg_words is None:
                    seg_words, seg_terms = words[seg], terms[seg] = {}, {}
                else:
                    seg_terms = terms[seg]
                last_seg = seg
            shown = clean.get(word)
            if shown is None:
                shown = clean[word] = _clean_word(word)
            key = lowered.get(term)
            if key is None:
                key = lowered[term] = term.lower()
            shown_words = seg_words.get(code_id)
            if shown_words is None:
                seg_words[code_id] = [shown]
                seg_terms[code_id] = {key}
            else:
                if shown not in shown_words:
                    shown_words.append(shown)
                seg_terms[code_id].add(key)
        evidence = {seg: TermEvidence(found, terms[seg]) for seg, found in words.items()}
        return ids, sizes, [evidence.get(j, empty) for j in range(len(lengths))]

    def _code_lemmas(self) -> list[list[str]]:
        texts = [" ".join([c.label_da, c.label_en, c.question, c.definition, c.include, *c.terms])
                 for c in self.codebook.codes]
        return [a.lemmas for a in self.analyse(texts, cache=True)]

    # --------------------------------------------------------------------- fit
    def fit(self, documents: Sequence[TrainingDocument]) -> "Tagger":
        """Train the question recogniser, the model and the combiner on labelled documents.

        The codebook's own texts are always added as seed examples, so a tagger with
        no coded documents still works from the codebook alone.
        """
        k = len(self.code_ids)
        index = {c: j for j, c in enumerate(self.code_ids)}
        self.recognizer_ = QuestionRecognizer().fit(self._code_lemmas(), list(range(k)))
        with self._lemma_lock:
            self._recognizer_columns = np.zeros(0, dtype=np.int64)
        docs = list(documents) + codebook_documents(self.codebook)
        rows_lemmas, rows_y, rows_rules, rows_prior, rows_structured, rows_stack = [], [], [], [], [], []
        rows_group: list[int] = []  # which document each row comes from (rows are in text order)
        rows_project: list[bool] = []
        for doc_index, doc in enumerate(docs):
            segments = list(doc.segments)
            analyses = self.analyse([s.text for s in segments], cache=True)
            rules = self._rules([a.terms for a in analyses])
            priors, roles = self._priors(segments, [a.lemmas for a in analyses], rules)
            blocks = _blocks(priors)
            for pos, labels in sorted(doc.labels.items()):
                if roles[pos] == "moderator":
                    continue
                y = np.zeros(k, dtype=int)
                for code in labels:
                    if code in index:
                        y[index[code]] = 1
                rows_lemmas.append(analyses[pos].lemmas)
                rows_y.append(y)
                rows_rules.append(rules[pos])
                rows_prior.append(self._prior_vector(priors[pos], analyses[pos]))
                rows_structured.append(priors[pos].structured)
                rows_stack.append(doc.source != "codebook")
                rows_project.append(doc.source not in SHIPPED_SOURCES)
                rows_group.append(doc_index * BLOCKS_PER_DOCUMENT + blocks[pos])
        Y = np.array(rows_y).reshape(-1, k)
        self.vectorizer_ = CompoundTfidfVectorizer(min_df=1 if len(rows_y) < 200 else 2)
        X = self.vectorizer_.fit_transform(rows_lemmas)
        weights = project_weights(np.array(rows_project, bool), np.array(rows_stack, bool))
        self.model_ = CalibratedOneVsRest(random_state=self.random_state).fit(X, Y, sample_weight=weights)
        with self._lemma_lock:
            self._type_rows = self.vectorizer_.type_matrix([])
        stack = np.array(rows_stack, bool)
        context = neighbour_context(self.model_.oof_proba_, np.array(rows_group))
        features = signal_features(self.model_.oof_proba_, np.array(rows_rules).reshape(-1, k),
                                   np.array(rows_prior).reshape(-1, k), context)
        self.combiner_ = ScoreCombiner().fit(features[stack], Y[stack],
                                             np.array(rows_structured, bool)[stack], weights[stack])
        self.documents_ = list(documents)
        self.n_training_segments_ = int(stack.sum())
        return self

    def refit(self, store) -> "Tagger":
        """Retrain with the base documents plus the codings accepted in ``store`` now."""
        return self.fit(merge_documents(self.base_documents, store_documents(store)))

    # ----------------------------------------------------------------- scoring
    def _prior_vector(self, prior: Prior, analysis: SegmentAnalysis) -> np.ndarray:
        """One-hot prior of the point asked last, weighted by how much the segment says.

        A backchannel ("Ja, præcis.") sits under a question but is not about it.
        """
        vec = np.zeros(len(self.code_ids))
        if prior.code is not None:
            vec[prior.code] = min(1.0, len(analysis.lemmas) / SUBSTANCE_LEMMAS)
        return vec

    def _rules(self, terms: Sequence[TermEvidence], specific: dict[str, float] | None = None) -> np.ndarray:
        """Term scores, shape (n_segments, n_codes); only segments with matches cost anything.

        ``specific`` scales terms that are this project's topic or metadata (see
        :mod:`.evidence`); other terms keep their full weight.
        """
        rules = np.zeros((len(terms), len(self.code_ids)))
        index = {c: j for j, c in enumerate(self.code_ids)}
        weights = self._term_weights
        if specific:
            weights = {**weights, **{term: term_weight(term) * w for term, w in specific.items()}}
        for i, evidence in enumerate(terms):
            for code_id, found in evidence.terms.items():
                j = index.get(code_id)
                if j is not None:
                    # TermEvidence.score, inlined: this runs for every segment with a match.
                    total = 0.0
                    for term in found:
                        weight = weights.get(term)
                        if weight is None:
                            weight = weights[term] = term_weight(term)
                        total += weight
                    rules[i, j] = total
        np.negative(rules, out=rules)
        np.exp(rules, out=rules)
        return np.subtract(1.0, rules, out=rules)

    def _priors(self, segments: Sequence, lemmas: Sequence[Sequence[str]],
                rules: np.ndarray, groups: list[list[int]] | None = None,
                similarity: Callable[[list[int]], np.ndarray] | None = None) -> tuple[list[Prior], list[str]]:
        """Structure priors and effective roles.

        ``similarity(positions)`` gives the question recogniser's similarity of those
        segments; by default it is computed from ``lemmas``, which is then read only at
        the question candidates.
        """
        priors: list[Prior] = [Prior(None, False)] * len(segments)
        roles = [getattr(s, "role", "participant") or "participant" for s in segments]
        groups = _documents(segments) if groups is None else groups
        speakers = [getattr(s, "speaker", None) for s in segments]
        texts = [s.text for s in segments]
        # The recogniser's inputs for the candidate questions of every document at once.
        local = [recognition_candidates([roles[i] for i in group], [speakers[i] for i in group],
                                        [texts[i] for i in group]) for group in groups]
        flat = [group[j] for group, js in zip(groups, local) for j in js]
        sims = (self.recognizer_.similarity([lemmas[i] for i in flat]) if similarity is None
                else similarity(flat))
        found = iter(question_cues(self.recognizer_, [texts[i] for i in flat], None, self._numbers,
                                   rules[flat], sims))
        for group, js in zip(groups, local):
            cues = {j: next(found) for j in js}
            p, r = assign_priors([roles[i] for i in group], [speakers[i] for i in group],
                                 [texts[i] for i in group], _Lazy(lemmas.__getitem__, group),
                                 self.recognizer_, self._numbers, rules[group], cues)
            for i, prior, role in zip(group, p, r):
                priors[i], roles[i] = prior, role
        return priors, roles

    def _type_features(self) -> sp.csr_matrix:
        """The fitted vectorizer's feature rows of every lemma type seen so far (row = lemma id).

        Grows with the lemma table; a batch of new text costs only its new word types.
        """
        with self._lemma_lock:
            known = self._type_rows
            words = self._lemma_list
            if known.shape[0] < len(words):
                extra = self.vectorizer_.type_matrix(words[known.shape[0]:])
                known = self._type_rows = sp.vstack([known, extra], format="csr")
            return known

    def _question_similarity(self, batch: BatchAnalysis, positions: list[int]) -> np.ndarray:
        """The question recogniser's similarity for some segments of a batch, from lemma ids."""
        with self._lemma_lock:
            columns = self._recognizer_columns
            if len(columns) < len(self._lemma_list):
                extra = self.recognizer_.columns(self._lemma_list[len(columns):])
                columns = self._recognizer_columns = np.concatenate([columns, extra])
        positions = np.asarray(positions, dtype=np.int64)
        sizes = batch.sizes()[positions]
        total = int(sizes.sum())
        # Index of every lemma of the chosen segments in batch.lemma_ids.
        offsets = np.repeat(batch.bounds[positions] - np.cumsum(sizes) + sizes, sizes)
        ids = batch.lemma_ids[offsets + np.arange(total)]
        rows = np.repeat(np.arange(len(positions)), sizes)
        return self.recognizer_.similarity_of_columns(rows, columns[ids], len(positions))

    def _model_proba(self, batch: BatchAnalysis, rows: np.ndarray,
                     lemma_weights: np.ndarray | None = None) -> np.ndarray:
        """The model's probabilities for the segments ``rows`` of a batch, from lemma ids.

        ``lemma_weights`` (per lemma id) scales each word's count: the project's topic
        words and metadata words count less or not at all.
        """
        sizes = batch.sizes()[rows]
        bounds = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(sizes, out=bounds[1:])
        if len(rows) == len(batch):
            ids = batch.lemma_ids
        else:
            wanted = np.zeros(len(batch), bool)
            wanted[rows] = True
            ids = batch.lemma_ids[np.repeat(wanted, batch.sizes())]
        types = self._type_features()
        values = np.ones(len(ids)) if lemma_weights is None else lemma_weights[ids]
        counts = sp.csr_matrix((values, ids, bounds), shape=(len(rows), types.shape[0]))
        return self.model_.predict_proba(self.vectorizer_.transform_types(counts, types))

    def vectors(self, segments: Sequence) -> sp.csr_matrix:
        """The model's TF-IDF rows of segments (to tell similar turns from varied ones)."""
        return self.vectorizer_.transform([a.lemmas for a in self.analyse([s.text for s in segments],
                                                                         cache=True)])

    def score(self, segments: Sequence) -> tuple[np.ndarray, dict]:
        """Combined scores (n_segments, n_codes) and the signals behind them."""
        if self.documents_ is None:
            raise RuntimeError("the tagger is not fitted; use focusqa.tagging.build_tagger()")
        segments = list(segments)
        k = len(self.code_ids)
        batch = self.analyse_batch([s.text for s in segments])
        rules = self._rules(batch.terms)
        documents = _documents(segments)
        priors, roles = self._priors(segments, _Lazy(batch.lemmas, range(len(batch))), rules, documents,
                                     lambda positions: self._question_similarity(batch, positions))
        content = np.array([r != "moderator" for r in roles], bool)
        # The interview structure reads every term; as evidence for a code, the project's
        # topic words and its metadata count less or not at all.
        metadata = metadata_words(segments)
        participants = np.flatnonzero(content)
        rules = self._rules(batch.terms, term_weights([e.terms for e in batch.terms], participants, metadata))
        model = np.zeros((len(segments), k))
        if content.any():
            weights = lemma_weights(batch.lemma_ids, batch.bounds, participants, batch.words, metadata)
            model[content] = self._model_proba(batch, participants, weights)
        prior = np.zeros((len(segments), k))
        codes = np.array([-1 if p.code is None else p.code for p in priors], dtype=np.int64)
        rows = np.flatnonzero(codes >= 0)
        if len(rows):
            prior[rows, codes[rows]] = np.minimum(1.0, batch.sizes()[rows] / SUBSTANCE_LEMMAS)
        # A segment outside any recognised question or section is read as plain content: in
        # prose, a table header or an expired heading says nothing about what follows.
        structured = np.array([p.structured and p.code is not None for p in priors], bool)
        groups = np.zeros(len(segments), dtype=int)
        for g, group in enumerate(documents):
            groups[group] = g * BLOCKS_PER_DOCUMENT + np.array(_blocks([priors[i] for i in group]))
        context = np.zeros_like(model)
        context[content] = neighbour_context(model[content], groups[content])
        scores = self.combiner_.predict_proba(signal_features(model, rules, prior, context), structured)
        scores[~content] = 0.0
        return scores, {"model": model, "rules": rules, "prior": prior, "priors": priors,
                        "terms": batch.terms, "structured": structured, "content": content}

    def suggest(self, segments: Sequence, *, threshold: float | None = None) -> list[list[CodeSuggestion]]:
        """Per segment, the codes above threshold (highest first); moderator turns get none.

        When no code clears its threshold, the top code is still suggested alone if
        its score clears the floor. ``threshold`` (or the tagger's) replaces the
        learned per-code thresholds.
        """
        segments = list(segments)
        if not segments:
            return []
        with _no_gc():
            return self._suggest(segments, threshold)

    def _suggest(self, segments: list, threshold: float | None) -> list[list[CodeSuggestion]]:
        scores, signals = self.score(segments)
        scores = np.round(scores, 4)
        threshold = threshold if threshold is not None else self.threshold
        if threshold is None:
            limits = self.combiner_.thresholds(signals["structured"])
        else:
            limits = np.full(scores.shape, float(threshold))
        floor = min(self.floor, float(threshold)) if threshold is not None else self.floor
        content = signals["content"]
        order = np.argsort(-scores, axis=1, kind="stable")
        chosen = (scores >= limits) & content[:, None]
        # Where no code clears its threshold, the top code alone if it clears the floor.
        rows = np.arange(len(scores))
        alone = content & ~chosen.any(axis=1) & (scores[rows, order[:, 0]] >= floor)
        chosen[alone, order[alone, 0]] = True
        # The chosen (segment, code) pairs, highest score first within a segment.
        seg_index, rank = np.nonzero(np.take_along_axis(chosen, order, axis=1))
        code_index = order[seg_index, rank]
        values = scores[seg_index, code_index].tolist()
        prior_v, model_v, rules_v = (np.round(signals[key][seg_index, code_index], 3).tolist()
                                     for key in ("prior", "model", "rules"))
        codes = [(c.id, c.number, c.label_da) for c in self.codebook.codes]
        numbers = [c.number for c in self.codebook.codes]
        priors, terms = signals["priors"], signals["terms"]
        out: list[list[CodeSuggestion]] = [[] for _ in range(len(segments))]
        for n, (i, j) in enumerate(zip(seg_index.tolist(), code_index.tolist())):
            code = priors[i].code
            code_id, number, label = codes[j]
            out[i].append(CodeSuggestion(code_id, number, label, values[n], {
                "terms": list(terms[i].words.get(code_id, ())),
                "question": numbers[code] if code is not None else None,
                "prior": prior_v[n],
                "model": model_v[n],
                "rules": rules_v[n],
            }))
        return out
