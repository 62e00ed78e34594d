"""Array-level speed work of the tagger, kept out of the flow in ``tagger.py``.

Each helper does what a plain loop over segments, tokens or matches would do, on whole
NumPy/SciPy arrays or with the per-match Python kept to a minimum. They exist because a
project of a million words has millions of tokens but only tens of thousands of word
types and about 80,000 term matches: work done per type or per array instead of per
token is what keeps tagging near the speed of spaCy's bare tokenizer
(``benchmarks/bench_tagging.py``). None of them changes a result; the tests compare the
bulk paths with the plain ones (``tests/test_tagging_signals.py``, ``tests/test_tagging.py``).
"""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Sequence as SequenceABC
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

import numpy as np
import scipy.sparse as sp
from spacy.attrs import IDX, LEMMA, ORTH
from spacy.tokens import Doc

from ..nlp.components import ARRAYS_KEY, MATCHES_KEY, TypeMap
from .rules import TermEvidence, term_spans, term_weight

# ----------------------------------------------------------------- word types
# A word type's properties packed in one integer, so one hash lookup per token gives
# them all: lemma id << _LEMMA_SHIFT | _KEEP (a content word) | length in characters.
_LEMMA_SHIFT = 34
_KEEP = np.uint64(1 << 33)
_LENGTH = np.uint64((1 << 33) - 1)


class WordTypes:
    """Per word type, computed once: its lemma id, whether it is a content word, its length.

    Lemma ids number the lemma strings in order of first appearance (``words``); a
    segment's content words are kept as arrays of these ids, and the model's and the
    question recogniser's per-lemma tables are indexed by them. Safe to share between
    threads: the tables only grow, under a lock.
    """

    def __init__(self, vocab) -> None:
        self.vocab = vocab
        self._lemma_types = TypeMap()  # lemma hash -> lemma id
        self._orth_types = TypeMap()   # word hash -> packed properties
        self.word_list: list[str] = []
        self.words = np.zeros(0, dtype=object)
        self._long = np.zeros(0, dtype=bool)
        self.lock = threading.Lock()

    def packed(self, orth: np.ndarray, lemma: Callable[[], np.ndarray]) -> np.ndarray:
        """Per token, its word type's packed properties (see :func:`content_lemma_ids`).

        ``lemma`` gives the tokens' lemma hashes; it is only called when new word types
        appear (a word type's lemma never changes).
        """
        values, known = self._orth_types.lookup(orth)
        if not known.all():
            new, first = np.unique(orth[~known], return_index=True)
            hashes = lemma()[np.flatnonzero(~known)[first]]
            ids, long = self.lemma_ids(hashes)
            packed = []
            for h, lemma_id, has_letters in zip(new.tolist(), ids.tolist(), long.tolist()):
                lex = self.vocab[h]
                content = lex.is_alpha and not lex.is_stop and has_letters
                packed.append((lemma_id << _LEMMA_SHIFT) | (_KEEP if content else 0) | len(lex.orth_))
            self._orth_types.add(new, np.array(packed, dtype=np.uint64))
            values, known = self._orth_types.lookup(orth)
        return values

    def lemma_ids(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids, long) for an array of lemma hashes: each lemma's id, and whether it has
        more than one letter."""
        positions, known = self._lemma_types.lookup(hashes)
        if not known.all():
            with self.lock:
                new = np.unique(hashes[~known])
                new = new[~np.isin(new, self._lemma_types.keys)]
                table = self.vocab.strings
                start = len(self.word_list)
                self.word_list.extend(table[h] for h in new.tolist())
                self.words = np.array(self.word_list, dtype=object)
                self._long = np.fromiter((len(w) > 1 for w in self.word_list), dtype=bool,
                                         count=len(self.word_list))
                self._lemma_types.add(new, np.arange(start, start + len(new), dtype=np.uint64))
            positions, known = self._lemma_types.lookup(hashes)
        positions = positions.astype(np.int64)
        return positions, self._long[positions]


def content_lemma_ids(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(token positions, lemma ids) of the content words among tokens' packed properties."""
    keep = np.flatnonzero(packed & _KEEP)
    return keep, (packed[keep] >> _LEMMA_SHIFT).astype(np.int64)


def token_lengths(packed: np.ndarray) -> np.ndarray:
    """Length in characters of each token, from its packed properties."""
    return (packed & _LENGTH).astype(np.int64)


class GrowingTable:
    """A per-lemma-id table (feature rows, vocabulary columns) that grows with the lemma table.

    ``extend(words)`` computes the entries of new words and ``join(old, new)`` appends
    them, so a batch of new text costs only its new word types.
    """

    def __init__(self, empty, extend: Callable[[list[str]], object],
                 join: Callable[[object, object], object]) -> None:
        self._table, self._extend, self._join = empty, extend, join
        self._lock = threading.Lock()

    def upto(self, words: list[str]):
        """The table with an entry for every word of ``words`` (the lemma table, id order)."""
        with self._lock:
            if self._table.shape[0] < len(words):
                self._table = self._join(self._table, self._extend(words[self._table.shape[0]:]))
            return self._table


def feature_rows(extend: Callable[[list[str]], sp.csr_matrix], width: int) -> GrowingTable:
    """A :class:`GrowingTable` of sparse feature rows (one per lemma id)."""
    return GrowingTable(sp.csr_matrix((0, width)), extend, lambda a, b: sp.vstack([a, b], format="csr"))


def column_table(extend: Callable[[list[str]], np.ndarray]) -> GrowingTable:
    """A :class:`GrowingTable` of integer columns (one per lemma id)."""
    return GrowingTable(np.zeros(0, dtype=np.int64), extend, lambda a, b: np.concatenate([a, b]))


# ------------------------------------------------------ cutting chunks back
_MARKUP = re.compile(r"</?[A-Za-z][^>\s]*>?|&[a-z]+;")
# Evidence words longer than this (a run of text without spaces) are shortened for display.
SHOWN_WORD_LENGTH = 60


def clean_word(text: str) -> str:
    """A matched word for display: without stray HTML markup or trailing punctuation, and
    shortened when it is a long run of text without spaces."""
    cleaned = _MARKUP.sub("", text).strip(" .,;:!?()[]\"'“”«»•-–") or text
    if len(cleaned) > SHOWN_WORD_LENGTH:
        cleaned = cleaned[:SHOWN_WORD_LENGTH - 1] + "…"
    return cleaned


class ShownWords:
    """Per matched text and term, the cleaned word and lower-cased term, computed once."""

    def __init__(self) -> None:
        self.clean: dict[str, str] = {}
        self.lowered: dict[str, str] = {}


def split_chunk(doc: Doc, lengths: list[int], text: str, separator: str, types: WordTypes,
                shown: ShownWords) -> tuple[np.ndarray, np.ndarray, list[TermEvidence]]:
    """Cut one analysed chunk (segments joined by ``separator``) back into its segments.

    Returns the chunk's content-lemma ids (segment after segment), the number of them
    per segment, and each segment's term evidence. Token properties come from the
    arrays the pipeline kept (``ARRAYS_KEY``) and one packed lookup per token; matched
    words are sliced from ``text`` by character offsets instead of building a ``Token``
    per match.
    """
    starts = np.cumsum([0] + [n + len(separator) for n in lengths[:-1]])
    empty = TermEvidence()
    if not len(doc):
        return np.zeros(0, dtype=np.int64), np.zeros(len(lengths), dtype=np.int64), [empty] * len(lengths)
    kept = doc.user_data.get(ARRAYS_KEY) or {}
    n = len(doc)
    orth = kept["orth"] if len(kept.get("orth", ())) == n else doc.to_array(ORTH)
    idx = doc.to_array(IDX).astype(np.int64)
    packed = types.packed(orth, lambda: kept["lemma"] if len(kept.get("lemma", ())) == n
                          else doc.to_array(LEMMA))
    keep, ids = content_lemma_ids(packed)
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
        ends = (idx[last] + token_lengths(packed[last])).tolist()
        segs = (np.searchsorted(starts, idx[first], side="right") - 1).tolist()
        spans = [(m[0], m[1], text[b:e], m[2]) for m, b, e in zip(raw, begins, ends)]
    else:
        spans, segs = [], []
    return ids, sizes, _segment_evidence(spans, segs, len(lengths), shown)


def _segment_evidence(spans, segs: list[int], n: int, shown: ShownWords) -> list[TermEvidence]:
    """Each segment's :class:`TermEvidence` from the chunk's matches (in text order) and
    the segment each lies in. This runs once per match, so it is written out inline."""
    clean, lowered = shown.clean, shown.lowered
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
        text = clean.get(word)
        if text is None:
            text = clean[word] = clean_word(word)
        key = lowered.get(term)
        if key is None:
            key = lowered[term] = term.lower()
        shown_words = seg_words.get(code_id)
        if shown_words is None:
            seg_words[code_id] = [text]
            seg_terms[code_id] = {key}
        else:
            if text not in shown_words:
                shown_words.append(text)
            seg_terms[code_id].add(key)
    empty = TermEvidence()
    evidence = {seg: TermEvidence(found, terms[seg]) for seg, found in words.items()}
    return [evidence.get(j, empty) for j in range(n)]


# ------------------------------------------------------------- flat lemma ids
def lemma_positions(bounds: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions, owner): where the lemmas of segments ``rows`` lie in a batch's flat
    ``lemma_ids`` (``bounds`` as in ``BatchAnalysis``), and which of ``rows`` each belongs to."""
    rows = np.asarray(rows, dtype=np.int64)
    sizes = np.diff(bounds)[rows]
    offsets = np.repeat(bounds[rows] - np.cumsum(sizes) + sizes, sizes)
    return offsets + np.arange(int(sizes.sum())), np.repeat(np.arange(len(rows)), sizes)


def count_matrix(lemma_ids: np.ndarray, bounds: np.ndarray, rows: np.ndarray, n_types: int,
                 weights: np.ndarray | None = None) -> sp.csr_matrix:
    """Segments ``rows`` × lemma ids: each content word's count (or ``weights[id]``)."""
    sizes = np.diff(bounds)[rows]
    row_bounds = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(sizes, out=row_bounds[1:])
    if len(rows) == len(bounds) - 1:
        ids = lemma_ids
    else:
        wanted = np.zeros(len(bounds) - 1, bool)
        wanted[rows] = True
        ids = lemma_ids[np.repeat(wanted, np.diff(bounds))]
    values = np.ones(len(ids)) if weights is None else weights[ids]
    return sp.csr_matrix((values, ids, row_bounds), shape=(len(rows), n_types))


# ------------------------------------------------------------- term scores
_PLAIN_WEIGHTS: dict[str, float] = {}  # term -> term_weight(term); codebook terms only


def rule_scores(found: Sequence[TermEvidence], code_index: dict[str, int],
                weights: dict[str, float]) -> np.ndarray:
    """``1 − exp(−Σ weight)`` of each segment's distinct matched terms, per code.

    ``weights`` overrides :func:`~focusqa.tagging.rules.term_weight` for some terms.
    Only segments with matches cost anything; the sum is written out because it runs
    for every such segment.
    """
    rules = np.zeros((len(found), len(code_index)))
    weights = {**_PLAIN_WEIGHTS, **weights} if weights else _PLAIN_WEIGHTS
    for i, evidence in enumerate(found):
        for code_id, terms in evidence.terms.items():
            j = code_index.get(code_id)
            if j is not None:
                total = 0.0
                for term in terms:
                    weight = weights.get(term)
                    if weight is None:
                        weight = weights[term] = term_weight(term)
                    total += weight
                rules[i, j] = total
    np.negative(rules, out=rules)
    np.exp(rules, out=rules)
    return np.subtract(1.0, rules, out=rules)


# ------------------------------------------------------------- suggestions
def chosen_pairs(scores: np.ndarray, limits: np.ndarray, floor: float,
                 content: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(segment, code) index pairs to suggest, highest score first within a segment.

    A code is chosen where its score reaches its limit; where none does, the top code
    alone if it reaches ``floor``; never on rows outside ``content``.
    """
    order = np.argsort(-scores, axis=1, kind="stable")
    chosen = (scores >= limits) & content[:, None]
    rows = np.arange(len(scores))
    alone = content & ~chosen.any(axis=1) & (scores[rows, order[:, 0]] >= floor)
    chosen[alone, order[alone, 0]] = True
    seg_index, rank = np.nonzero(np.take_along_axis(chosen, order, axis=1))
    return seg_index, order[seg_index, rank]


# ------------------------------------------------------------------ misc
class Lazy(SequenceABC):
    """``item(positions[j])`` for each j, computed when indexed (for lemma lists that
    only a few positions need)."""

    def __init__(self, item: Callable[[int], object], positions: Sequence[int]) -> None:
        self.item, self.positions = item, positions

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, j):
        return self.item(self.positions[j])


_GC_LOCK = threading.Lock()
_GC_USERS = [0, False]  # callers inside paused_gc, and whether the collector was on before the first


@contextmanager
def paused_gc() -> Iterator[None]:
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
