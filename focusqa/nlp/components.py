"""spaCy components: sentence starts, offline Danish lemmas, the codebook term matcher.

All three work on whole arrays of token attributes and cache per word type, because a
corpus has far fewer distinct words than tokens; that keeps tagging close to the
speed of the bare tokenizer.
"""

from __future__ import annotations

import threading
from operator import itemgetter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator

import numpy as np
import pandas as pd
from spacy.attrs import LEMMA, LOWER, ORTH, SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from .lemmas import LemmaTable, lemma_table
from .matching import MatchRules, stem_matches

if TYPE_CHECKING:
    from ..codebook import Codebook

SPANS_KEY = "codes"
MATCHES_KEY = ("focusqa", "codebook_matches")
# Token attribute arrays the components computed anyway ("orth", "lower", "lemma"),
# kept on the Doc so later components and bulk readers need not call to_array again.
ARRAYS_KEY = ("focusqa", "token_arrays")
# Matches in text order: start token, end token, code id.
_MATCH_ORDER = itemgetter(2, 3, 0)
# Small words that may vary inside a phrase ("skrive en/flere/gode underretning(er)").
PHRASE_FILLERS = frozenset({"en", "et", "af", "i", "til", "med", "på", "om", "og", "det", "den", "de",
                            "for", "at", "sig", "som", "hos", "fra"})
# Flags of a word type in CodebookMatcher._token_kinds: it matches a stem; it can be a
# phrase's second word; its third word after a small word that varies.
_ANY_STEM, _SECOND_WORD, _THIRD_WORD = 1, 2, 4
_KIND_MASK = np.uint64((1 << 29) - 1)
# A stem counts as a longer compound of another when it has more letters than an ending adds.
COMPOUND_EXTRA = 2
SENTENCE_ENDS = (".", "!", "?", "…", "...", "?!", "!!", "??")


class SentenceSplitter:
    """Sentence starts after ., ! and ? (like spaCy's sentencizer), set from token arrays.

    spaCy's ``sentencizer`` walks the tokens in Python; this does the same rule
    with two NumPy operations per document, which matters at a million words.
    """

    def __init__(self, nlp: Language, name: str = "focusqa_sentences", *,
                 punct_chars: Iterable[str] = SENTENCE_ENDS) -> None:
        self.name = name
        self.ends = np.array(sorted(nlp.vocab.strings.add(p) for p in punct_chars), dtype=np.uint64)

    def __call__(self, doc: Doc) -> Doc:
        """Mark sentence starts on ``doc``.

        doc (Doc): the document.
        RETURNS (Doc): the document with ``doc.sents`` available.
        """
        self._set_starts(doc, doc.to_array(ORTH))
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 256) -> Iterator[Doc]:
        for doc in stream:
            orth = doc.to_array(ORTH)
            self._set_starts(doc, orth)
            doc.user_data.setdefault(ARRAYS_KEY, {})["orth"] = orth
            yield doc

    def _set_starts(self, doc: Doc, orth: np.ndarray) -> None:
        n = len(orth)
        if n:
            is_end = (orth[:, None] == self.ends).any(axis=1)
            starts = np.full(n, -1, dtype=np.int64)
            starts[0] = 1
            starts[1:][is_end[:-1] & ~is_end[1:]] = 1
            doc.from_array([SENT_START], starts.view(np.uint64).reshape(-1, 1))


@Language.factory("focusqa_sentences")
def make_sentence_splitter(nlp: Language, name: str) -> SentenceSplitter:
    return SentenceSplitter(nlp, name)


class TypeMap:
    """A growing map from word-type hashes to values, for whole arrays of tokens.

    A corpus has far fewer word types than tokens, so per-type results (a lemma, a
    flag) are computed once and looked up for every token of a batch through a
    hash index (pandas' ``Index.get_indexer``: about five times faster than a
    ``searchsorted`` over a sorted table). The arrays and the index are replaced,
    never changed in place, so threads sharing the pipeline read a consistent state.
    """

    def __init__(self) -> None:
        self._state: tuple[pd.Index, np.ndarray] = (pd.Index(np.zeros(0, dtype=np.uint64)),
                                                    np.zeros(0, dtype=np.uint64))
        self._lock = threading.Lock()

    @property
    def keys(self) -> np.ndarray:
        return self._state[0].to_numpy()

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values, found): values are only meaningful where found is true."""
        index, values = self._state
        if not len(values):
            return np.zeros(len(hashes), dtype=np.uint64), np.zeros(len(hashes), bool)
        pos = index.get_indexer(np.asarray(hashes, dtype=np.uint64))
        return values[pos], pos >= 0

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Add types (``keys`` unique); types already present keep their value."""
        with self._lock:
            index, old = self._state
            keys = np.asarray(keys, dtype=np.uint64)
            fresh = index.get_indexer(keys) < 0 if len(old) else np.ones(len(keys), bool)
            all_keys = np.concatenate([index.to_numpy(), keys[fresh]])
            all_values = np.concatenate([old, np.asarray(values, dtype=np.uint64)[fresh]])
            self._state = (pd.Index(all_keys), all_values)


class DanishLemmatizer:
    """Set ``token.lemma_`` from the spacy-lookups-data table applied to lower-cased tokens."""

    def __init__(self, nlp: Language, name: str = "focusqa_lemmatizer") -> None:
        self.name = name
        self.table: LemmaTable = lemma_table()
        self._known: set[int] = set()
        self._types = TypeMap()  # lower-case form -> lemma, for the forms seen so far

    def __call__(self, doc: Doc) -> Doc:
        """Write lemmas onto ``doc``.

        doc (Doc): the document.
        RETURNS (Doc): the same document with ``token.lemma_`` set.
        """
        self._set_lemmas([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 256, write: bool = True) -> Iterator[Doc]:
        """Lemmatise documents in batches: one table lookup per batch.

        ``write=False`` (``component_cfg={"focusqa_lemmatizer": {"write": False}}``) keeps
        the lemmas only in ``doc.user_data[ARRAYS_KEY]``, for bulk readers that never read
        ``token.lemma_``.
        """
        for batch in minibatch(stream, size=batch_size):
            self._set_lemmas(batch, write=write)
            yield from batch

    def _set_lemmas(self, docs: list[Doc], *, write: bool = True) -> None:
        arrays = [doc.to_array(LOWER) for doc in docs]
        if not arrays:
            return
        lower = np.concatenate(arrays)
        lemmas, found = self._types.lookup(lower)
        if not found.all():
            new_types = sorted_unique(lower[~found])
            new_lemmas = self.table.lemma_hashes(new_types)
            # Lemma strings enter the string store when their first word type is seen.
            strings = docs[0].vocab.strings
            for value in set(new_lemmas[new_lemmas != new_types].tolist()) - self._known:
                strings.add(self.table.lemma_text(value))
                self._known.add(value)
            self._types.add(new_types, new_lemmas)
            lemmas, found = self._types.lookup(lower)
        offset = 0
        for doc, arr in zip(docs, arrays):
            n = len(arr)
            if n and write:
                doc.from_array([LEMMA], lemmas[offset:offset + n].reshape(-1, 1))
            kept = doc.user_data.setdefault(ARRAYS_KEY, {})
            kept["lower"], kept["lemma"] = arr, lemmas[offset:offset + n]
            offset += n


@Language.factory("focusqa_lemmatizer")
def make_lemmatizer(nlp: Language, name: str) -> DanishLemmatizer:
    return DanishLemmatizer(nlp, name)


@dataclass(frozen=True)
class TermPattern:
    """One codebook term: its code, its text, and the acceptable stems of each word.

    An empty part is a wildcard: any one word (a small word in the middle of a
    phrase, see :func:`_phrase_variants`); its set is ``None``.
    """

    code_id: str
    term: str
    parts: tuple[tuple[int, ...], ...]
    sets: tuple[frozenset[int] | None, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sets", tuple(frozenset(part) if part else None for part in self.parts))


class CodebookMatcher:
    """Find every code's seed terms, inside compounds and inflections.

    Matches are written to ``doc.spans[spans_key]`` with the code id as the span
    label and the codebook term as ``span.id_``; the span text is the word as it
    appears in the transcript, which is what the evaluator sees as evidence.
    """

    def __init__(self, nlp: Language, name: str = "focusqa_codebook", *,
                 spans_key: str = SPANS_KEY, min_prefix: int = 5, min_suffix: int = 5,
                 min_infix: int = 7) -> None:
        self.nlp = nlp
        self.name = name
        self.spans_key = spans_key
        self.rules = MatchRules(min_prefix=min_prefix, min_suffix=min_suffix, min_infix=min_infix)
        self.stems: list[str] = []
        self.patterns: list[TermPattern] = []
        self._longest = 1  # words in the longest term
        self._second_stems: frozenset[int] = frozenset()  # stems of a phrase's second word
        self._third_stems: frozenset[int] = frozenset()  # … of its third, after a word that varies
        self._starts: dict[int, list[int]] = {}
        self._cache: dict[int, frozenset[int]] = {}
        self._start_cache: dict[frozenset[int], tuple[int, ...]] = {}
        self._single_cache: dict[frozenset[int], tuple[tuple[str, str], ...]] = {}
        self._string_ids: dict[str, int] = {}
        self._type_flags = TypeMap()  # word type -> kind (see _token_kinds)
        self._single_list: list[tuple[tuple[str, str], ...]] = []
        self._hits: np.ndarray | None = None
        self._hits_size = 0
        self._lock = threading.Lock()

    def initialize(self, get_examples=None, *, nlp: Language | None = None,
                   codebook: "Codebook | None" = None) -> None:
        """Load the codebook's terms (spaCy's initialize hook)."""
        if codebook is not None:
            self.add_codes(codebook)

    def add_codes(self, codebook: "Codebook") -> None:
        """Replace the patterns with the terms of every code in ``codebook``."""
        stem_ids: dict[str, int] = {}
        patterns: list[TermPattern] = []
        table = lemma_table()
        for code in codebook.codes:
            for term in dict.fromkeys(code.terms):
                words = [t.lower_ for t in self.nlp.make_doc(term) if not t.is_space]
                if not words:
                    continue
                parts = []
                for word in words:
                    alternatives = term_stems(word, table)
                    if len(words) > 1:
                        alternatives.update(_syncopated(word))
                    parts.append(tuple(stem_ids.setdefault(a, len(stem_ids)) for a in sorted(alternatives)))
                patterns += [TermPattern(code.id, term, variant) for variant in _phrase_variants(words, parts)]
        # Longer terms first, so a phrase wins over a word inside it.
        patterns.sort(key=lambda p: (-len(p.parts), -len(p.term)))
        self.stems = [s for s, _ in sorted(stem_ids.items(), key=lambda kv: kv[1])]
        self.patterns = patterns
        self._longest = max((len(p.parts) for p in patterns), default=1)
        self._second_stems = frozenset(stem for p in patterns if len(p.sets) > 1 and p.sets[1] is not None
                                       for stem in p.sets[1])
        self._third_stems = frozenset(stem for p in patterns if len(p.sets) > 2 and p.sets[1] is None
                                      and p.sets[2] is not None for stem in p.sets[2])
        self._starts = {}
        for index, pattern in enumerate(patterns):
            for stem in pattern.parts[0]:
                self._starts.setdefault(stem, []).append(index)
        self._cache = {}
        self._start_cache = {}
        self._single_cache = {}
        self._single_list = []
        self._type_flags = TypeMap()
        self._hits = None

    def _type_matches(self, lower: int, lemma: int) -> frozenset[int]:
        strings = self.nlp.vocab.strings
        word = strings[lower]
        lemma_text = strings[lemma] if lemma and lemma != lower else word
        found = frozenset(i for i, stem in enumerate(self.stems)
                          if (stem in word or stem == lemma_text)
                          and stem_matches(word, lemma_text, stem, self.rules))
        if len(found) > 1:
            found = _without_contained(found, self.stems)
        self._cache[lower] = found
        return found

    def _matching_types(self, lowers: np.ndarray, lemmas: np.ndarray) -> np.ndarray:
        """Sorted hashes of the word types in ``lowers`` that match any stem."""
        unique, first = np.unique(lowers, return_index=True)
        cache = self._cache
        new = [(h, i) for h, i in zip(unique.tolist(), first.tolist()) if h not in cache]
        if not new and self._hits is not None and self._hits_size == len(cache):
            return self._hits
        # The app shares one pipeline between sessions: update the caches one thread at a time.
        with self._lock:
            for h, i in new:
                if h not in cache:
                    self._type_matches(h, int(lemmas[i]))
            if self._hits is None or self._hits_size != len(cache):
                self._hits = np.array(sorted(h for h, found in list(cache.items()) if found),
                                      dtype=np.uint64)
                self._hits_size = len(cache)
            return self._hits

    def _token_kinds(self, lowers: np.ndarray, lemmas: np.ndarray) -> np.ndarray:
        """Per token, what can start at its word type (types seen before cost one lookup).

        The value is ``kind << 3`` plus flags: :data:`_ANY_STEM` (the type matches
        any stem), :data:`_SECOND_WORD` (it can be a phrase's second word),
        :data:`_THIRD_WORD` (the third, after a small word that varies). Kind 0: no
        term starts here (a type that only matches a later word of a phrase,
        "rådgivning" in "åben rådgivning"; the phrase is checked from its first
        word); 1: a phrase may start here, and ``(value >> 32) - 1`` indexes its
        single-word matches where no phrase follows; k + 2: only single-word terms,
        whose matches are ``self._single_list[k]``.
        """
        kinds, known = self._type_flags.lookup(lowers)
        if not known.all():
            missing = np.flatnonzero(~known)
            unique, first = np.unique(lowers[missing], return_index=True)
            cache = self._cache
            with self._lock:
                for h, i in zip(unique.tolist(), missing[first].tolist()):
                    if h not in cache:
                        self._type_matches(h, int(lemmas[i]))
                values = np.array([self._packed_kind(cache[h]) for h in unique.tolist()], dtype=np.uint64)
            self._type_flags.add(unique, values)
            kinds, known = self._type_flags.lookup(lowers)
        return kinds

    def _packed_kind(self, found: frozenset[int]) -> int:
        """The value of :meth:`_token_kinds` for a type matching the stems ``found``."""
        kind = self._kind(found)
        value = kind << 3 | self._flags(found)
        return value | (self._phrase_free(found) + 1) << 32 if kind == 1 else value

    def _flags(self, found: frozenset[int]) -> int:
        """The flags of :meth:`_token_kinds` for a type matching the stems ``found``."""
        return ((_ANY_STEM if found else 0) | (_SECOND_WORD if found & self._second_stems else 0)
                | (_THIRD_WORD if found & self._third_stems else 0))

    def _kind(self, found: frozenset[int]) -> int:
        """The kind code of :meth:`_token_kinds` for a type matching the stems ``found``."""
        patterns = self.patterns
        candidates = sorted({p for stem in found for p in self._starts.get(stem, ())})
        if not candidates:
            return 0
        if any(len(patterns[index].sets) > 1 for index in candidates):
            return 1
        first: dict[str, str] = {}  # the first pattern per code wins, as in _match_types
        for index in candidates:
            first.setdefault(patterns[index].code_id, patterns[index].term)
        self._single_list.append(tuple(first.items()))
        return len(self._single_list) + 1

    def _phrase_free(self, found: frozenset[int]) -> int:
        """Index in ``_single_list`` of a phrase-start type's single-word matches alone
        (called under the lock, from :meth:`_token_kinds`)."""
        patterns = self.patterns
        candidates = sorted({p for stem in found for p in self._starts.get(stem, ())})
        first: dict[str, str] = {}
        for index in candidates:
            if len(patterns[index].sets) == 1:
                first.setdefault(patterns[index].code_id, patterns[index].term)
        self._single_list.append(tuple(first.items()))
        return len(self._single_list) - 1

    def _match_positions(self, lowers: np.ndarray, kinds: np.ndarray,
                         where: np.ndarray) -> list[tuple[str, str, int, int]]:
        """Matches starting at ``where`` (positions with a non-zero kind) in one document.

        Positions where a phrase may start go through :meth:`_match_types`; the
        others take their type's single-word matches, except a code already
        covered by a phrase matched over that position.
        """
        k = (kinds[where] >> 3) & _KIND_MASK
        slow = k == 1
        # A phrase needs its second word next, or its third after a small word that
        # varies; without either, a phrase start is a position with single-word terms only.
        possible = np.zeros(len(where), bool)
        for step, flag in ((1, _SECOND_WORD), (2, _THIRD_WORD)):
            after = where + step
            inside = after < len(kinds)
            possible[inside] |= (kinds[after[inside]] & flag) != 0
        results: list[tuple[str, str, int, int]] = []
        phrases: list[tuple[str, int, int]] = []
        if (slow & possible).any():
            slow_where = where[slow & possible]
            results = self._match_types(_Window(lowers, slow_where, self._longest), slow_where.tolist())
            phrases = [(code_id, start, end) for code_id, _, start, end in results if end - start > 1]
        fast = ~slow
        positions, which = where[fast].tolist(), (k[fast] - 2).tolist()
        singles = self._single_list
        alone = slow & ~possible
        if alone.any():
            extra = where[alone]
            positions += extra.tolist()
            which += ((kinds[extra] >> 32).astype(np.int64) - 1).tolist()
        if not phrases:
            results += [(code_id, term, i, i + 1) for i, w in zip(positions, which)
                        for code_id, term in singles[w]]
            return results
        # (code, position) inside a phrase of that code matched before the position.
        covered = {(code_id, i) for code_id, start, end in phrases for i in range(start + 1, end)}
        at = np.array(positions, dtype=np.int64)
        kinds_at = np.array(which, dtype=np.int64)
        within = np.isin(at, np.fromiter({i for _, i in covered}, dtype=np.int64))
        outside = ~within
        results += [(code_id, term, i, i + 1) for i, w in zip(at[outside].tolist(), kinds_at[outside].tolist())
                    for code_id, term in singles[w]]
        results += [(code_id, term, i, i + 1) for i, w in zip(at[within].tolist(), kinds_at[within].tolist())
                    for code_id, term in singles[w] if (code_id, i) not in covered]
        return results

    def match(self, doc: Doc) -> list[tuple[str, str, int, int]]:
        """(code id, term, start token, end token) for every term found in ``doc``."""
        if not self.patterns or not len(doc):
            return []
        lowers = doc.to_array(LOWER)
        hits = self._matching_types(lowers, doc.to_array(LEMMA))
        if not _member(lowers, hits).any():
            return []
        return self._match_types(lowers.tolist())

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 256, spans: bool = True) -> Iterator[Doc]:
        """Match documents in batches; only documents with a candidate word are examined.

        ``spans=False`` (``nlp.pipe(..., component_cfg={"focusqa_codebook": {"spans":
        False}})``) keeps the matches only in ``doc.user_data[MATCHES_KEY]``: bulk
        readers that never look at ``doc.spans`` skip building a ``Span`` per match.
        """
        for batch in minibatch(stream, size=batch_size):
            arrays = [_lower_lemma(doc) for doc in batch]
            both = np.concatenate(arrays) if arrays else np.zeros((0, 2), np.uint64)
            kinds = np.zeros(len(both), np.uint64)
            if self.patterns and len(both):
                kinds = self._token_kinds(both[:, 0], both[:, 1])
            found = ((kinds >> 3) & _KIND_MASK) > 0
            # Per document: does any token match? (cumulative counts at the boundaries)
            counts = np.concatenate([[0], np.cumsum(found)])
            offset = 0
            for doc, arr in zip(batch, arrays):
                n = len(arr)
                matches = []
                if counts[offset + n] > counts[offset]:
                    where = np.flatnonzero(found[offset:offset + n])
                    matches = self._match_positions(arr[:, 0], kinds[offset:offset + n], where)
                self.set_annotations(doc, matches, spans=spans)
                offset += n
            yield from batch

    def _match_types(self, lowers: list[int], where: list[int] | None = None) -> list[tuple[str, str, int, int]]:
        """Patterns starting at the positions ``where`` (default: every token).

        A position whose candidate patterns are all single words, and which no phrase
        found earlier covers, always gives the same matches for the same word type:
        those are taken from a per-type cache instead of being worked out again.
        """
        cache, starts, patterns = self._cache, self._start_cache, self.patterns
        singles = self._single_cache
        empty: frozenset[int] = frozenset()
        results: list[tuple[str, str, int, int]] = []
        seen: set[tuple[str, int]] = set()
        covered: dict[str, int] = {}
        horizon = -1  # end of the furthest phrase matched so far
        n = len(lowers)
        for i in range(n) if where is None else where:
            found = cache.get(lowers[i], empty)
            if not found:
                continue
            if i >= horizon:
                single = singles.get(found)
                if single is not None:
                    results += [(code_id, term, i, i + 1) for code_id, term in single]
                    continue
            candidates = starts.get(found)
            if candidates is None:
                candidates = starts[found] = tuple(sorted({p for s in found for p in self._starts.get(s, ())}))
                if all(len(patterns[index].sets) == 1 for index in candidates):
                    # First pattern per code wins, as in the loop below.
                    first: dict[str, str] = {}
                    for index in candidates:
                        first.setdefault(patterns[index].code_id, patterns[index].term)
                    singles[found] = tuple(first.items())
            for index in candidates:
                pattern = patterns[index]
                size = len(pattern.sets)
                if size > 1:
                    end = i + size
                    if end > n or not self._part_matches(pattern.sets[1], lowers[i + 1]):
                        continue
                    if size > 2 and not all(self._part_matches(pattern.sets[k], lowers[i + k])
                                            for k in range(2, size)):
                        continue
                code_id = pattern.code_id
                # Longer terms come first: a word inside a matched phrase is not matched again.
                if (code_id, i) in seen or covered.get(code_id, -1) > i:
                    continue
                seen.add((code_id, i))
                covered[code_id] = max(covered.get(code_id, -1), i + size)
                if size > 1:
                    horizon = max(horizon, i + size)
                results.append((code_id, pattern.term, i, i + size))
        return results

    def _part_matches(self, part: frozenset[int] | None, lower: int) -> bool:
        """Whether a word matches one part of a phrase (a wildcard takes any word, not punctuation)."""
        if part is None:
            return self.nlp.vocab.strings[lower].isalpha()
        return bool(part & self._cache.get(lower, frozenset()))

    def set_annotations(self, doc: Doc, matches: Iterable[tuple[str, str, int, int]], *,
                        spans: bool = True) -> None:
        """Write matches to ``doc.spans[self.spans_key]`` in text order.

        The raw matches are also kept in ``doc.user_data[MATCHES_KEY]`` so bulk
        readers need not build a ``Span`` object per match again.
        """
        ordered = sorted(matches, key=_MATCH_ORDER)
        doc.user_data[MATCHES_KEY] = ordered
        if not spans:
            return
        ids = self._string_ids
        if any(m[0] not in ids or m[1] not in ids for m in ordered):
            for code_id, term, _, _ in ordered:
                for value in (code_id, term):
                    if value not in ids:
                        ids[value] = doc.vocab.strings.add(value)
        # Labels as string ids: the same spans, without a string-store lookup per match.
        doc.spans[self.spans_key] = [Span(doc, start, end, label=ids[code_id], span_id=ids[term])
                                     for code_id, term, start, end in ordered]

    def __call__(self, doc: Doc) -> Doc:
        """Find the codebook's terms in ``doc``.

        doc (Doc): the document (lemmas set by ``focusqa_lemmatizer`` if present).
        RETURNS (Doc): the document with ``doc.spans["codes"]``.
        """
        self.set_annotations(doc, self.match(doc))
        return doc


def term_stems(word: str, table: LemmaTable | None = None) -> set[str]:
    """The stems a term word is matched by: the word, and its lemma when that is a
    real stem of it ("underretninger" -> "underretning"), not a homograph."""
    lemma = (table or lemma_table()).lemma(word)
    return {word, lemma} if len(lemma) >= 4 and lemma[:3] == word[:3] else {word}


def _phrase_variants(words: list[str], parts: list[tuple[int, ...]]) -> list[tuple[tuple[int, ...], ...]]:
    """A phrase's small middle words stand for any one word or none.

    "skrive en underretning" also finds "skrive underretninger" and "skrive gode
    underretninger"; "netværk af fagfolk" finds "netværk med fagfolk". Small words at
    either end ("sikker i", "klædt på") stay literal: they carry the meaning there.
    """
    variants: list[list[tuple[int, ...]]] = [[]]
    for k, (word, part) in enumerate(zip(words, parts)):
        if 0 < k < len(words) - 1 and word in PHRASE_FILLERS:
            variants = [v + [()] for v in variants] + [list(v) for v in variants]
        else:
            variants = [v + [part] for v in variants]
    return [tuple(v) for v in variants]


def _syncopated(word: str) -> tuple[str, ...]:
    """The inflected stem of an adjective that drops its last vowel: "åben" -> "åbn" ("åbne"),
    "sikker" -> "sikr" ("sikre"), "enkel" -> "enkl"; only used inside phrases, where the other
    words keep the match specific."""
    if len(word) >= 4 and word[-2] == "e" and word[-1] in "nlr" and word[-3] not in "aeiouyæøå":
        stem = word[:-3] if len(word) >= 5 and word[-4] == word[-3] else word[:-2]
        return (stem + word[-1],)
    return ()


def _without_contained(found: frozenset[int], stems: list[str]) -> frozenset[int]:
    """Drop stems that lie inside a longer compound stem matched by the same word.

    The longest stem says what a compound is about: "tværfaglige" is about
    "tværfaglig" (coordination), not "faglig" (advice); "myndighedsrådgiveren" is a
    caseworker, not "myndighed" (organisation). An inflected form of the same stem
    ("netværk" in "netværket") is not a longer compound and is kept.
    """
    return frozenset(i for i in found
                     if not any(len(stems[j]) > len(stems[i]) + COMPOUND_EXTRA and stems[i] in stems[j]
                                for j in found))


class _Window:
    """The token types at and just after some positions, as a list-like of Python ints.

    ``_match_types`` reads a type at each candidate start and, for phrases, at the
    next few tokens; converting the whole array with ``tolist`` would cost more.
    """

    def __init__(self, values: np.ndarray, where: np.ndarray, width: int) -> None:
        self.n = len(values)
        near = (where[:, None] + np.arange(max(width, 1))).ravel()
        near = sorted_unique(near[near < self.n])
        self.types = dict(zip(near.tolist(), values[near].tolist()))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return self.types[i]


def _lower_lemma(doc: Doc) -> np.ndarray:
    """(LOWER, LEMMA) per token: the lemmatizer's arrays when it kept them, else to_array."""
    kept = doc.user_data.get(ARRAYS_KEY)
    if kept is not None and "lower" in kept and "lemma" in kept and len(kept["lower"]) == len(doc):
        return np.column_stack([kept["lower"], kept["lemma"]])
    return doc.to_array([LOWER, LEMMA])


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` for integer arrays, by sorting: NumPy 2.4's ``np.unique``
    hashes integers and is about six times slower than a sort on the arrays tagging
    makes (hundreds of thousands of ids)."""
    ordered = np.sort(values, kind="stable")
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which values are in a sorted array (vectorised, faster than np.isin for repeated sets)."""
    if not len(sorted_set):
        return np.zeros(len(values), bool)
    pos = np.searchsorted(sorted_set, values)
    pos[pos >= len(sorted_set)] = 0
    return sorted_set[pos] == values


@Language.factory(
    "focusqa_codebook",
    default_config={"spans_key": SPANS_KEY, "min_prefix": 5, "min_suffix": 5, "min_infix": 7},
)
def make_codebook_matcher(nlp: Language, name: str, spans_key: str, min_prefix: int,
                          min_suffix: int, min_infix: int) -> CodebookMatcher:
    return CodebookMatcher(nlp, name, spans_key=spans_key, min_prefix=min_prefix,
                           min_suffix=min_suffix, min_infix=min_infix)


