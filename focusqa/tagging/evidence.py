"""Which words count as evidence in this project's own text.

A word that stands in most segments of a project is the project's topic, not evidence
for one code: in a report about early preventive work "tidlig" and "forebyggende" are
everywhere, and in a family group's interview "familiegruppen" is. And a metadata value
(the respondent group, the district, the document's name) says who spoke, not what
about. Both are measured on the batch being tagged, which is the project's text (all
imported segments for ``autocode``, the file for ``focusqa tag``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

from ..nlp.components import sorted_unique
from .fastpaths import lemma_positions

# Below this many participant segments a share of segments says little: every word counts.
MIN_SEGMENTS = 30
# A word in at most this share of segments is fully specific; in at least TOPIC_SHARE, none.
SPECIFIC_SHARE = 0.15
TOPIC_SHARE = 0.5
# Metadata words shorter than this are not matched (years, "Øst" stays a word).
MIN_METADATA_LENGTH = 4
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def specificity(share: np.ndarray) -> np.ndarray:
    """Weight in [0, 1] of a word found in ``share`` of the project's segments.

    1 up to :data:`SPECIFIC_SHARE`, 0 from :data:`TOPIC_SHARE`, falling linearly in
    log-share between them.
    """
    share = np.clip(np.asarray(share, dtype=float), 1e-9, 1.0)
    top, bottom = np.log(SPECIFIC_SHARE), np.log(TOPIC_SHARE)
    return np.clip((np.log(share) - bottom) / (top - bottom), 0.0, 1.0)


def metadata_words(segments: Iterable) -> set[str]:
    """Lower-cased words of the segments' respondent group, district and document name."""
    values = set()
    for seg in segments:
        for attr in ("group", "district", "document"):
            value = getattr(seg, attr, None)
            if value:
                values.add(str(value))
    words = set()
    for value in values:
        for word in _WORD.findall(value.lower().replace("_", " ")):
            if len(word) >= MIN_METADATA_LENGTH:
                words.add(word)
    return words


def is_metadata(word: str, metadata: set[str]) -> bool:
    """True when ``word`` (a lemma, a term stem) is or starts a metadata word, or the reverse.

    Looked up through prefixes, so a project with hundreds of documents stays fast.
    """
    word = word.lower()
    if len(word) >= MIN_METADATA_LENGTH and word in _prefixes(frozenset(metadata)):
        return True
    return any(word[:n] in metadata for n in range(MIN_METADATA_LENGTH, len(word) + 1))


@lru_cache(maxsize=8)
def _prefixes(metadata: frozenset[str]) -> frozenset[str]:
    return frozenset(m[:n] for m in metadata for n in range(MIN_METADATA_LENGTH, len(m) + 1))


def lemma_weights(lemma_ids: np.ndarray, bounds: np.ndarray, rows: np.ndarray, words: Sequence[str],
                  metadata: set[str]) -> np.ndarray:
    """Per lemma id, its weight as evidence in the segments ``rows`` of a batch.

    ``lemma_ids``/``bounds`` are the batch's flat content lemmas (see ``BatchAnalysis``);
    ``words`` is the lemma table (id -> lemma).
    """
    weights = np.ones(len(words))
    if metadata:
        weights[[i for i, w in enumerate(words) if is_metadata(w, metadata)]] = 0.0
    if len(rows) < MIN_SEGMENTS:
        return weights
    where, owner = lemma_positions(bounds, rows)
    ids = lemma_ids[where]
    pairs = sorted_unique(owner.astype(np.int64) * len(words) + ids)
    df = np.bincount(pairs % len(words), minlength=len(words))
    return weights * specificity(df / len(rows))


def segment_counts(found: Sequence[dict[str, set[str]]]) -> dict[str, int]:
    """Per matched term (lower-cased stem), the number of segments it stands in, for any
    code; ``found`` is each segment's terms per code."""
    counts: dict[str, int] = {}
    for terms_per_code in found:
        seen = set()
        for terms in terms_per_code.values():
            seen |= terms
        for term in seen:
            counts[term] = counts.get(term, 0) + 1
    return counts


def term_weights(counts: dict[str, int], n_segments: int, metadata: set[str]) -> dict[str, float]:
    """Per matched term, its weight as evidence in a project's ``n_segments`` segments,
    from the number of segments each stands in (:func:`segment_counts`). Only terms that
    lose weight are listed."""
    out = {}
    for term, count in counts.items():
        weight = 0.0 if metadata and is_metadata(term, metadata) else 1.0
        if n_segments >= MIN_SEGMENTS:
            weight *= float(specificity(np.array([count / n_segments]))[0])
        if weight < 1.0:
            out[term] = weight
    return out
