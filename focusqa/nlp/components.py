"""spaCy components: offline Danish lemmas and the codebook term matcher.

Both work on whole arrays of token attributes and cache per word type, because a
corpus has far fewer distinct words than tokens; that keeps tagging close to the
speed of the bare tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import numpy as np
from spacy.attrs import LEMMA, LOWER
from spacy.language import Language
from spacy.tokens import Doc, Span

from .lemmas import LemmaTable, lemma_table
from .matching import MatchRules, stem_matches

if TYPE_CHECKING:
    from ..codebook import Codebook

SPANS_KEY = "codes"


class DanishLemmatizer:
    """Set ``token.lemma_`` from the spacy-lookups-data table applied to lower-cased tokens."""

    def __init__(self, nlp: Language, name: str = "focusqa_lemmatizer") -> None:
        self.name = name
        self.table: LemmaTable = lemma_table()
        self._known: set[int] = set()

    def __call__(self, doc: Doc) -> Doc:
        """Write lemmas onto ``doc``.

        doc (Doc): the document.
        RETURNS (Doc): the same document with ``token.lemma_`` set.
        """
        if len(doc):
            lower = doc.to_array(LOWER)
            lemmas = self.table.lemma_hashes(lower)
            changed = lemmas != lower
            if changed.any():
                new = set(lemmas[changed].tolist()) - self._known
                if new:
                    # Lemma strings enter the string store only when first seen.
                    strings = doc.vocab.strings
                    for value in new:
                        strings.add(self.table.lemma_text(value))
                    self._known |= new
            doc.from_array([LEMMA], lemmas.reshape(-1, 1))
        return doc


@Language.factory("focusqa_lemmatizer")
def make_lemmatizer(nlp: Language, name: str) -> DanishLemmatizer:
    return DanishLemmatizer(nlp, name)


@dataclass(frozen=True)
class TermPattern:
    """One codebook term: its code, its text, and the acceptable stems of each word."""

    code_id: str
    term: str
    parts: tuple[tuple[int, ...], ...]


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
        self._starts: dict[int, list[int]] = {}
        self._cache: dict[int, frozenset[int]] = {}

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
                    alternatives = {word}
                    lemma = table.lemma(word)
                    if len(words) == 1 and len(lemma) >= 4 and lemma[:3] == word[:3]:
                        alternatives.add(lemma)
                    parts.append(tuple(stem_ids.setdefault(a, len(stem_ids)) for a in sorted(alternatives)))
                patterns.append(TermPattern(code.id, term, tuple(parts)))
        # Longer terms first, so a phrase wins over a word inside it.
        patterns.sort(key=lambda p: (-len(p.parts), -len(p.term)))
        self.stems = [s for s, _ in sorted(stem_ids.items(), key=lambda kv: kv[1])]
        self.patterns = patterns
        self._starts = {}
        for index, pattern in enumerate(patterns):
            for stem in pattern.parts[0]:
                self._starts.setdefault(stem, []).append(index)
        self._cache = {}

    def _type_matches(self, lower: int, lemma: int) -> frozenset[int]:
        strings = self.nlp.vocab.strings
        word = strings[lower]
        lemma_text = strings[lemma] if lemma and lemma != lower else word
        found = frozenset(i for i, stem in enumerate(self.stems)
                          if (stem in word or stem == lemma_text)
                          and stem_matches(word, lemma_text, stem, self.rules))
        self._cache[lower] = found
        return found

    def match(self, doc: Doc) -> list[tuple[str, str, int, int]]:
        """(code id, term, start token, end token) for every term found in ``doc``."""
        if not self.patterns or not len(doc):
            return []
        lowers = doc.to_array(LOWER).tolist()
        lemmas = doc.to_array(LEMMA).tolist()
        cache = self._cache
        types = [cache.get(h) for h in lowers]
        for i, found in enumerate(types):
            if found is None:
                types[i] = self._type_matches(lowers[i], lemmas[i])
        results: list[tuple[str, str, int, int]] = []
        seen: set[tuple[str, int, int]] = set()
        covered: dict[str, set[int]] = {}
        n = len(types)
        for i, found in enumerate(types):
            if not found:
                continue
            candidates = sorted({p for s in found for p in self._starts.get(s, ())})
            for index in candidates:
                pattern = self.patterns[index]
                end = i + len(pattern.parts)
                if end > n or not all(set(part) & types[i + k] for k, part in enumerate(pattern.parts)):
                    continue
                taken = covered.setdefault(pattern.code_id, set())
                if (pattern.code_id, i, end) in seen or taken.issuperset(range(i, end)):
                    continue
                seen.add((pattern.code_id, i, end))
                taken.update(range(i, end))
                results.append((pattern.code_id, pattern.term, i, end))
        return results

    def set_annotations(self, doc: Doc, matches: Iterable[tuple[str, str, int, int]]) -> None:
        """Write matches to ``doc.spans[self.spans_key]`` in text order."""
        spans = [Span(doc, start, end, label=code_id, span_id=term)
                 for code_id, term, start, end in sorted(matches, key=lambda m: (m[2], m[3], m[0]))]
        doc.spans[self.spans_key] = spans

    def __call__(self, doc: Doc) -> Doc:
        """Find the codebook's terms in ``doc``.

        doc (Doc): the document (lemmas set by ``focusqa_lemmatizer`` if present).
        RETURNS (Doc): the document with ``doc.spans["codes"]``.
        """
        self.set_annotations(doc, self.match(doc))
        return doc


@Language.factory(
    "focusqa_codebook",
    default_config={"spans_key": SPANS_KEY, "min_prefix": 5, "min_suffix": 5, "min_infix": 7},
)
def make_codebook_matcher(nlp: Language, name: str, spans_key: str, min_prefix: int,
                          min_suffix: int, min_infix: int) -> CodebookMatcher:
    return CodebookMatcher(nlp, name, spans_key=spans_key, min_prefix=min_prefix,
                           min_suffix=min_suffix, min_infix=min_infix)


