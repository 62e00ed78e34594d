"""Array-level speed work of the tagger, kept out of the flow in ``tagger.py``.

Each helper does what a plain loop over segments, tokens or matches would do, on whole
NumPy/SciPy arrays or with the per-match Python kept to a minimum. They exist because a
project of a million words has millions of tokens but only tens of thousands of word
types and about 80,000 term matches: work done per type or per array instead of per
token is what keeps tagging near the speed of spaCy's bare tokenizer
(``benchmarks/bench_tagging.py``) and a refit of 5,000 rows near a second. None of them
changes a result (``shared_ridge``: not beyond the tolerance of the solver it replaces);
the tests compare the bulk paths with the plain ones (``tests/test_tagging_signals.py``,
``tests/test_tagging.py``).
"""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Sequence as SequenceABC
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np
import scipy.sparse as sp
from spacy.attrs import IDX, LEMMA, LOWER
from spacy.tokens import Doc

from ..nlp.components import ARRAYS_KEY, MATCHES_KEY, TypeMap, sorted_unique
from .rules import TermEvidence, term_spans, term_weight

# ----------------------------------------------------------------- word types
# A word type's properties packed in one integer, so one hash lookup per token gives
# them both: lemma id << _LEMMA_SHIFT | _KEEP (a content word).
_LEMMA_SHIFT = 34
_KEEP = np.uint64(1 << 33)
# "İ" lower-cases to "i" and a combining dot, which is not a letter.
_COMBINING_DOT = "\u0307"


class WordTypes:
    """Per lower-cased word type, computed once: its lemma id and whether it is a content
    word (letters only, not a stop word, a lemma of two letters or more).

    Lemma ids number the lemma strings in order of first appearance (``words``); a
    segment's content words are kept as arrays of these ids, and the model's and the
    question recogniser's per-lemma tables are indexed by them. Keyed by the lower-cased
    form the lemmatizer reads anyway, so bulk analysis needs no array of original forms.
    Safe to share between threads: the tables only grow, under a lock.
    """

    def __init__(self, vocab) -> None:
        self.vocab = vocab
        self._lemma_types = TypeMap()  # lemma hash -> lemma id
        self._lower_types = TypeMap()  # lower-cased word hash -> packed properties
        self.word_list: list[str] = []
        self.words = np.zeros(0, dtype=object)
        self._long = np.zeros(0, dtype=bool)
        self.lock = threading.Lock()

    def packed(self, lower: np.ndarray, lemma: Callable[[], np.ndarray]) -> np.ndarray:
        """Per token (its lower-cased form's hash), the word type's packed properties (see
        :func:`content_lemma_ids`).

        ``lemma`` gives the tokens' lemma hashes; it is only called when new word types
        appear (a word type's lemma never changes).
        """
        values, known = self._lower_types.lookup(lower)
        if not known.all():
            new, first = np.unique(lower[~known], return_index=True)
            hashes = lemma()[np.flatnonzero(~known)[first]]
            ids, long = self.lemma_ids(hashes)
            packed = []
            for h, lemma_id, has_letters in zip(new.tolist(), ids.tolist(), long.tolist()):
                lex = self.vocab[h]
                content = _letters_only(lex.orth_) and not lex.is_stop and has_letters
                packed.append((lemma_id << _LEMMA_SHIFT) | (_KEEP if content else 0))
            self._lower_types.add(new, np.array(packed, dtype=np.uint64))
            values, known = self._lower_types.lookup(lower)
        return values

    def lemma_ids(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids, long) for an array of lemma hashes: each lemma's id, and whether it has
        more than one letter."""
        positions, known = self._lemma_types.lookup(hashes)
        if not known.all():
            with self.lock:
                new = sorted_unique(hashes[~known])
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


def _letters_only(lowered: str) -> bool:
    """Whether a lower-cased word is letters only, as its original form is ("İstanbul")."""
    return lowered.isalpha() or (_COMBINING_DOT in lowered and lowered.replace(_COMBINING_DOT, "").isalpha())


def content_lemma_ids(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(token positions, lemma ids) of the content words among tokens' packed properties."""
    keep = np.flatnonzero(packed & _KEEP)
    return keep, (packed[keep] >> _LEMMA_SHIFT).astype(np.int64)


def token_ends(idx: np.ndarray, tokens: np.ndarray, text: str) -> np.ndarray:
    """Character offset in ``text`` where each of ``tokens`` (word tokens of the Doc whose
    token offsets are ``idx``) ends: where the next token starts, less the one space a
    token may have after it."""
    following = np.append(idx, len(text))[tokens + 1]
    return following - np.fromiter((text[i - 1] == " " for i in following.tolist()), dtype=np.int64,
                                   count=len(following))


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
    """Per matched text, the cleaned word shown as evidence, computed once."""

    def __init__(self) -> None:
        self.clean: dict[str, str] = {}


@dataclass
class ChunkMatches:
    """The term matches of one analysed chunk in text order: the segment each lies in
    (counted within the chunk), its code id and term, and the matched word's
    character offsets in the chunk's text."""

    segment: np.ndarray
    codes: list[str]
    terms: list[str]
    begin: np.ndarray
    end: np.ndarray


def split_chunk(doc: Doc, lengths: np.ndarray, text: str, separator: str,
                types: WordTypes) -> tuple[np.ndarray, np.ndarray, ChunkMatches]:
    """Cut one analysed chunk (segments joined by ``separator``) back into its segments.

    Returns the chunk's content-lemma ids (segment after segment), the number of them
    per segment, and its term matches. Token properties come from the arrays the
    pipeline kept (``ARRAYS_KEY``) and one packed lookup per token; a matched word is
    kept as character offsets into ``text``, not as a ``Token`` or a string.
    """
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(np.asarray(lengths[:-1], dtype=np.int64) + len(separator), out=starts[1:])
    if not len(doc):
        return (np.zeros(0, dtype=np.int64), np.zeros(len(lengths), dtype=np.int64),
                ChunkMatches(np.zeros(0, dtype=np.int64), [], [], np.zeros(0, dtype=np.int64),
                             np.zeros(0, dtype=np.int64)))
    kept = doc.user_data.get(ARRAYS_KEY) or {}
    n = len(doc)
    lower = kept["lower"] if len(kept.get("lower", ())) == n else doc.to_array(LOWER)
    idx = doc.to_array(IDX).astype(np.int64)
    packed = types.packed(lower, lambda: kept["lemma"] if len(kept.get("lemma", ())) == n
                          else doc.to_array(LEMMA))
    keep, ids = content_lemma_ids(packed)
    owner = np.searchsorted(starts, idx[keep], side="right") - 1
    sizes = np.bincount(owner, minlength=len(lengths))
    raw = doc.user_data.get(MATCHES_KEY)
    if raw is None:
        spans = term_spans(doc)
        codes, terms = [m[0] for m in spans], [m[1] for m in spans]
        begin = idx[np.array([m[3] for m in spans], dtype=np.int64)]
        end = begin + np.array([len(m[2]) for m in spans], dtype=np.int64)
    else:
        first = np.fromiter((m[2] for m in raw), dtype=np.int64, count=len(raw))
        last = np.fromiter((m[3] for m in raw), dtype=np.int64, count=len(raw)) - 1
        codes, terms = [m[0] for m in raw], [m[1] for m in raw]
        begin, end = idx[first], token_ends(idx, last, text)
    segment = np.searchsorted(starts, begin, side="right") - 1
    return ids, sizes, ChunkMatches(segment, codes, terms, begin, end)


class BatchTerms(SequenceABC):
    """The term matches of a batch of segments, as flat arrays; ``terms[i]`` is segment
    i's :class:`TermEvidence`, built when first read.

    A million words hold about 80,000 matches, and building every segment's evidence
    (dicts of words and sets of terms) cost more than scoring them: the term scores
    (:func:`rule_scores`) and the term signal's fit count on the arrays instead, and
    evidence is built only for the segments whose suggestions show it.
    """

    def __init__(self, chunks: Sequence[ChunkMatches], chunk_sizes: Sequence[int], texts: Sequence[str],
                 shown: ShownWords) -> None:
        offsets = np.cumsum([0, *chunk_sizes])
        self.n_segments = int(offsets[-1])
        self.texts, self.shown = list(texts), shown
        code_index: dict[str, int] = {}
        key_index: dict[str, int] = {}
        term_key: dict[str, int] = {}
        codes, keys, segments, chunk_of = [], [], [], []
        for number, (chunk, offset) in enumerate(zip(chunks, offsets.tolist())):
            codes += [code_index.setdefault(c, len(code_index)) for c in chunk.codes]
            for term in dict.fromkeys(chunk.terms):
                if term not in term_key:
                    term_key[term] = key_index.setdefault(term.lower(), len(key_index))
            keys += [term_key[t] for t in chunk.terms]
            segments.append(chunk.segment + offset)
            chunk_of.append(np.full(len(chunk.segment), number, dtype=np.int64))
        empty = np.zeros(0, dtype=np.int64)
        self.code_ids, self.term_keys = list(code_index), list(key_index)
        self._set_matches(np.concatenate(segments) if segments else empty, np.array(codes, dtype=np.int64),
                          np.array(keys, dtype=np.int64), np.concatenate(chunk_of) if chunk_of else empty,
                          np.concatenate([c.begin for c in chunks]) if chunks else empty,
                          np.concatenate([c.end for c in chunks]) if chunks else empty)

    def _set_matches(self, segment: np.ndarray, code: np.ndarray, term: np.ndarray, chunk: np.ndarray,
                     begin: np.ndarray, end: np.ndarray) -> None:
        """The per-match arrays (segment numbers non-decreasing), and each segment's range of them."""
        self.segment, self.code, self.term, self.chunk, self.begin, self.end = segment, code, term, chunk, begin, end
        self._bounds = np.searchsorted(segment, np.arange(self.n_segments + 1))
        self._built: dict[int, TermEvidence] = {}

    def __len__(self) -> int:
        return self.n_segments

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.n_segments))]
        if i < 0:
            i += self.n_segments
        if not 0 <= i < self.n_segments:
            raise IndexError(i)
        found = self._built.get(i)
        if found is None:
            found = self._built[i] = self._evidence(i)
        return found

    def take(self, rows: np.ndarray) -> "BatchTerms":
        """The matches of segments ``rows`` only, numbered 0 … len(rows) − 1 (for fitting
        the term signal on a project's participant segments)."""
        rows = np.asarray(rows, dtype=np.int64)
        number = np.full(self.n_segments, -1, dtype=np.int64)
        number[rows] = np.arange(len(rows))
        kept = number[self.segment] >= 0 if len(self.segment) else np.zeros(0, bool)
        order = np.argsort(number[self.segment[kept]], kind="stable")
        out = BatchTerms([], [len(rows)], self.texts, self.shown)
        out.code_ids, out.term_keys = self.code_ids, self.term_keys
        out._set_matches(number[self.segment[kept]][order],
                         *(values[kept][order] for values in (self.code, self.term, self.chunk, self.begin, self.end)))
        return out

    def distinct(self, columns: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(segment, column, term key) once per distinct triple; ``columns`` maps each code
        id of :attr:`code_ids` to one of ``width`` columns (−1: left out)."""
        column = columns[self.code] if len(self.code) else np.zeros(0, dtype=np.int64)
        wanted = column >= 0
        width, n_keys = max(width, 1), max(len(self.term_keys), 1)
        key = (self.segment[wanted] * width + column[wanted]) * n_keys + self.term[wanted]
        key = sorted_unique(key)
        return key // (width * n_keys), (key // n_keys) % width, key % n_keys

    def term_counts(self) -> dict[str, int]:
        """Per term key, the number of segments it was matched in (for any code)."""
        pairs = sorted_unique(self.segment * max(len(self.term_keys), 1) + self.term)
        counts = np.bincount(pairs % max(len(self.term_keys), 1), minlength=len(self.term_keys))
        return {key: int(c) for key, c in zip(self.term_keys, counts.tolist()) if c}

    def shown_words(self, segments: Sequence[int], code_ids: Sequence[str]) -> list[list[str]]:
        """For each (segment, code id) pair, the words shown as that code's evidence in the
        segment: ``self[segment].words[code_id]`` (or none), for many pairs at once."""
        out: list[list[str]] = [[] for _ in segments]
        columns = {code: j for j, code in enumerate(self.code_ids)}
        width = max(len(self.code_ids), 1)
        wanted = {seg * width + columns[code]: n for n, (seg, code) in enumerate(zip(segments, code_ids))
                  if code in columns}
        if not wanted or not len(self.segment):
            return out
        keys = self.segment * width + self.code
        where = np.flatnonzero(np.isin(keys, np.fromiter(wanted, dtype=np.int64, count=len(wanted))))
        clean, texts = self.shown.clean, self.texts
        for key, chunk, b, e in zip(keys[where].tolist(), self.chunk[where].tolist(), self.begin[where].tolist(),
                                    self.end[where].tolist()):
            word = texts[chunk][b:e]
            text = clean.get(word)
            if text is None:
                text = clean[word] = clean_word(word)
            shown = out[wanted[key]]
            if text not in shown:
                shown.append(text)
        return out

    def _evidence(self, i: int) -> TermEvidence:
        """Segment i's evidence, as :class:`TermEvidence`: per code, the words as written
        (cleaned, in text order, each once) and the distinct term keys."""
        lo, hi = int(self._bounds[i]), int(self._bounds[i + 1])
        if lo == hi:
            return TermEvidence()
        clean, texts = self.shown.clean, self.texts
        words: dict[str, list[str]] = {}
        terms: dict[str, set[str]] = {}
        for code, term, chunk, b, e in zip(self.code[lo:hi].tolist(), self.term[lo:hi].tolist(),
                                           self.chunk[lo:hi].tolist(), self.begin[lo:hi].tolist(),
                                           self.end[lo:hi].tolist()):
            word = texts[chunk][b:e]
            text = clean.get(word)
            if text is None:
                text = clean[word] = clean_word(word)
            code_id = self.code_ids[code]
            shown_words = words.get(code_id)
            if shown_words is None:
                words[code_id] = [text]
                terms[code_id] = {self.term_keys[term]}
            else:
                if text not in shown_words:
                    shown_words.append(text)
                terms[code_id].add(self.term_keys[term])
        return TermEvidence(words, terms)


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


def rule_scores(found: Sequence[TermEvidence] | BatchTerms, code_index: dict[str, int],
                weights: dict[str, float]) -> np.ndarray:
    """``1 − exp(−Σ weight)`` of each segment's distinct matched terms, per code
    (on a :class:`BatchTerms`, from its arrays).

    ``weights`` overrides :func:`~focusqa.tagging.rules.term_weight` for some terms.
    Only segments with matches cost anything; the sum is written out because it runs
    for every such segment.
    """
    rules = np.zeros((len(found), len(code_index)))
    weights = {**_PLAIN_WEIGHTS, **weights} if weights else _PLAIN_WEIGHTS
    if isinstance(found, BatchTerms):
        columns = np.array([code_index.get(c, -1) for c in found.code_ids], dtype=np.int64)
        segment, column, term = found.distinct(columns, len(code_index))
        per_term = np.array([_weight_of(key, weights) for key in found.term_keys])
        if len(segment):
            np.add.at(rules, (segment, column), per_term[term])
        return _saturated(rules)
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
    return _saturated(rules)


def _weight_of(term: str, weights: dict[str, float]) -> float:
    weight = weights.get(term)
    if weight is None:
        weight = weights[term] = term_weight(term)
    return weight


def _saturated(total: np.ndarray) -> np.ndarray:
    """``1 − exp(−total)``, in place."""
    np.negative(total, out=total)
    np.exp(total, out=total)
    return np.subtract(1.0, total, out=total)


# ------------------------------------------------------------- suggestions
def evidence_words(terms: Sequence[TermEvidence] | BatchTerms, segments: Sequence[int],
                   code_ids: Sequence[str]) -> list[list[str]]:
    """The words shown as evidence for each (segment, code id) pair."""
    if isinstance(terms, BatchTerms):
        return terms.shown_words(segments, code_ids)
    return [list(terms[i].words.get(code, ())) for i, code in zip(segments, code_ids)]


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


# ------------------------------------------------------------- ridge fits
FitColumns = slice | np.ndarray  # which fits a solver step works on


def shared_ridge(X: sp.csr_matrix, targets: np.ndarray, weights: np.ndarray, *, alpha: float = 1.0,
                 tol: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Many weighted ridge regressions on the same rows, solved together.

    Column ``m`` of ``targets``/``weights`` (n_rows, n_fits) is one regression with an
    intercept, the one scikit-learn's ``Ridge(solver="sparse_cg")`` solves for ``X``,
    ``targets[:, m]``, ``sample_weight=weights[:, m]``: a row a fit leaves out has weight 0.
    Every code and every calibration fold is then one column, and each conjugate-gradient
    step costs one sparse product with a dense block instead of one per fit (a refit on
    5,000 rows fits 28). As in scikit-learn, the system is solved over the rows when there
    are more features than rows (the dense work of a step then grows with the rows, not
    with the vocabulary) and over the features otherwise, and a fit stops where
    scikit-learn's would (residual ≤ ``tol`` × right-hand side); ``tests/test_tagging.py``
    compares the two. The solver works in single precision: its tolerance is far above
    float32's rounding, and each step then moves half the bytes. Returns ``coef``
    (n_features, n_fits) and ``intercept`` (n_fits,).
    """
    X = X.astype(np.float32)
    targets, weights = targets.astype(np.float32), weights.astype(np.float32)
    XT = X.T.tocsr()
    total = weights.sum(axis=0)
    x_offset = np.asarray(XT @ weights) / total          # weighted column means, per fit
    y_offset = (weights * targets).sum(axis=0) / total
    root = np.sqrt(weights)

    # A = √w (X − x_offset) per fit, centred implicitly so that X stays sparse.
    def times_a(P: np.ndarray, fits: FitColumns) -> np.ndarray:
        return root[:, fits] * (np.asarray(X @ P) - np.einsum("ij,ij->j", x_offset[:, fits], P))

    def times_a_transposed(Z: np.ndarray, fits: FitColumns) -> np.ndarray:
        WZ = root[:, fits] * Z
        return np.asarray(XT @ WZ) - x_offset[:, fits] * WZ.sum(axis=0)

    centred = root * (targets - y_offset)
    if X.shape[1] > X.shape[0]:
        # (AAᵀ + αI) z = b, coef = Aᵀz: scikit-learn's "kernel ridge" branch.
        dual = _conjugate_gradient(lambda Z, fits: times_a(times_a_transposed(Z, fits), fits) + alpha * Z,
                                   centred, tol)
        coef = times_a_transposed(dual, slice(None))
    else:
        # (AᵀA + αI) coef = Aᵀb.
        rhs = times_a_transposed(centred, slice(None))
        coef = _conjugate_gradient(lambda P, fits: times_a_transposed(times_a(P, fits), fits) + alpha * P,
                                   rhs, tol)
    coef = coef.astype(float)
    return coef, (y_offset - (x_offset * coef).sum(axis=0)).astype(float)


def _conjugate_gradient(product: Callable[[np.ndarray, FitColumns], np.ndarray], rhs: np.ndarray,
                        tol: float) -> np.ndarray:
    """Solve ``product(x, fits) = rhs`` column by column (each symmetric positive definite),
    stepping only the columns not yet within ``tol`` × their right-hand side. While every
    column is still stepping, ``fits`` is a slice, so the blocks are views, not copies."""
    solution = np.zeros_like(rhs)
    residual, direction = rhs.copy(), rhs.copy()
    squared = (residual ** 2).sum(axis=0)
    limit = (tol * np.linalg.norm(rhs, axis=0)) ** 2
    active = np.flatnonzero(squared > limit)
    for _ in range(10 * rhs.shape[0] + 10):
        if not active.size:
            break
        fits = slice(None) if active.size == rhs.shape[1] else active
        P = direction[:, fits]
        Q = product(P, fits)
        step = squared[fits] / np.einsum("ij,ij->j", P, Q)
        solution[:, fits] += step * P
        residual[:, fits] -= step * Q
        new = np.einsum("ij,ij->j", residual[:, fits], residual[:, fits])
        direction[:, fits] = residual[:, fits] + (new / squared[fits]) * P
        squared[fits] = new
        active = active[new > limit[active]]
    return solution


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
