"""Step 1 of the tagger: what the spaCy pipeline finds in each segment.

Every signal reads the same analysis: a segment's content lemmas (letters only, not a
stop word, 2+ letters) and its codebook term matches (:class:`TermEvidence`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from ..codebook import Codebook
from ..nlp import build_pipeline
from .fastpaths import BatchTerms, ShownWords, WordTypes, split_chunk
from .rules import TermEvidence

# Segments per spaCy Doc when analysing, and the text that joins them.
CHUNK_SEGMENTS = 600
SEPARATOR = "\n\n"
# The analyser reads the raw matches and the kept lemma arrays, not doc.spans or
# token.lemma_ (see CodebookMatcher.pipe and DanishLemmatizer.pipe).
_BULK = {"focusqa_codebook": {"spans": False}, "focusqa_lemmatizer": {"write": False}}
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
    terms: BatchTerms

    def __len__(self) -> int:
        return len(self.terms)

    def lemmas(self, i: int) -> list[str]:
        return self.words[self.lemma_ids[self.bounds[i]:self.bounds[i + 1]]].tolist()

    def sizes(self) -> np.ndarray:
        """Number of content lemmas per segment."""
        return np.diff(self.bounds)

    def segments(self) -> list[SegmentAnalysis]:
        return [SegmentAnalysis(self.lemmas(i), self.terms[i]) for i in range(len(self))]


class Analyser:
    """Runs the codebook's pipeline over texts (see :func:`focusqa.nlp.build_pipeline`).

    ``word_types`` numbers the lemmas it has seen (lemma ids); they stay the same for
    the analyser's lifetime, so the signals' per-lemma tables stay valid across refits.
    """

    def __init__(self, codebook: Codebook) -> None:
        self.nlp = build_pipeline(codebook)
        self.word_types = WordTypes(self.nlp.vocab)
        self._shown = ShownWords()
        self._cache: dict[str, SegmentAnalysis] = {}

    def analyse(self, texts: Iterable[str], *, cache: bool = False) -> list[SegmentAnalysis]:
        """Content lemmas and term matches per text (``cache``: remember them by text, for
        training texts that every refit reads again)."""
        texts = list(texts)
        results: list[SegmentAnalysis | None] = [None] * len(texts)
        todo = []
        for i, text in enumerate(texts):
            hit = self._cache.get(text) if cache else None
            if hit is not None:
                results[i] = hit
            else:
                todo.append(i)
        for i, analysis in zip(todo, self.analyse_batch([texts[i] for i in todo]).segments()):
            results[i] = analysis
            if cache:
                self._cache[texts[i]] = analysis
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
        ids, sizes, matches = [], [], []
        docs = self.nlp.pipe(joined, batch_size=4, component_cfg=_BULK, disable=_UNUSED)
        for chunk, text, doc in zip(chunks, joined, docs):
            lengths = np.fromiter(map(len, chunk), dtype=np.int64, count=len(chunk))
            chunk_ids, chunk_sizes, chunk_matches = split_chunk(doc, lengths, text, SEPARATOR, self.word_types)
            ids.append(chunk_ids)
            sizes.append(chunk_sizes)
            matches.append(chunk_matches)
        terms = BatchTerms(matches, [len(chunk) for chunk in chunks], joined, self._shown)
        bounds = np.zeros(len(texts) + 1, dtype=np.int64)
        if sizes:
            np.cumsum(np.concatenate(sizes), out=bounds[1:])
        lemma_ids = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        return BatchAnalysis(lemma_ids, bounds, self.word_types.words, terms)
