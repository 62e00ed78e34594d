"""The Danish spaCy pipeline: sentences, offline lemmas and codebook terms.

``build_pipeline(codebook)`` is cached by the codebook's content, so an edited
codebook gets a new pipeline and an unchanged one is built once per process.
Nothing is downloaded: the pipeline starts from ``spacy.blank("da")``.
"""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language

from ..codebook import Codebook, parse_codebook
from .components import SPANS_KEY, CodebookMatcher, DanishLemmatizer, SentenceSplitter, TermPattern
from .lemmas import LEMMA_OVERRIDES, lemma_table, lemmatize
from .matching import MatchRules, stem_matches


def build_pipeline(codebook: Codebook | None = None) -> Language:
    """A blank Danish pipeline: sentence splitter, lemmatizer and codebook matcher.

    codebook: the codes whose terms are matched (the bundled interview guide if None).
    Returns a shared, read-only ``Language``: do not add pipes to it.
    """
    if codebook is None:
        from ..codebook import load_codebook

        codebook = load_codebook()
    return _pipeline_for(codebook.to_yaml())


@lru_cache(maxsize=8)
def _pipeline_for(codebook_yaml: str) -> Language:
    codebook = parse_codebook(codebook_yaml)
    nlp = spacy.blank("da")
    nlp.add_pipe("focusqa_sentences")
    nlp.add_pipe("focusqa_lemmatizer")
    matcher = nlp.add_pipe("focusqa_codebook")
    matcher.add_codes(codebook)
    return nlp


__all__ = ["build_pipeline", "SentenceSplitter", "CodebookMatcher", "DanishLemmatizer", "TermPattern", "MatchRules",
           "stem_matches", "lemmatize", "lemma_table", "LEMMA_OVERRIDES", "SPANS_KEY"]
