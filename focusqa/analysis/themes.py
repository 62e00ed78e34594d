"""Themes per district: the district × code matrix, its cells' excerpts and summaries.

What the matrix counts (the Temaer page and ``focusqa summary`` show the same thing):

* **counts**: the number of distinct *participant* segments in the row carrying the
  code. Moderator turns are left out: the moderator asks every guide question in
  every group, so counting them would add the same questions to every row.
  A segment coded by two coders counts once.
* **shares**: counts divided by the row's number of participant segments, i.e. the
  share of the district's participant talk, measured in segments (turn paragraphs),
  that carries the code. Segments rather than words, so that a share and a count
  describe the same units; ``ThemeMatrix.words`` holds the row's participant words
  for readers who want the size of the talk.
* rows follow :func:`focusqa.analysis.row_label`: the project group is its own row.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ..codebook import Codebook
from ..store import Excerpt, Store
from ..store.analysis_queries import coded_participant_segments, participant_texts
from . import By, CodedExcerpt, merge_excerpts, row_label, row_order


@dataclass
class CellSummary:
    """An extractive summary of one matrix cell."""

    representative: list[Excerpt]
    distinctive_terms: list[str]


@dataclass
class ThemeMatrix:
    """The row × code matrix with the segments behind every cell.

    The matrix holds the cells' segment ids; the excerpts of a code (all rows) are
    read from the store the first time a cell of that code is asked for, so building
    the matrix of a large project does not build an excerpt for every coding. A
    matrix taken from a cache (pickled without its store) needs :meth:`attach`
    before its excerpts are read.
    """

    counts: pd.DataFrame
    shares: pd.DataFrame
    totals: pd.Series
    words: pd.Series
    codebook: Codebook
    by: By = "district"
    round: str | None = None
    statuses: tuple[str, ...] = ("accepted",)
    coders: tuple[str, ...] | None = None
    _cell_ids: dict[tuple[str, str], list[int]] = field(default_factory=dict, repr=False)
    _store: Store | None = field(default=None, repr=False, compare=False)
    _coded: dict[str, dict[str, list[CodedExcerpt]]] = field(default_factory=dict, repr=False, compare=False)
    _texts: dict[str, list[str]] | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        # The store (engine, connections) stays behind when a cache pickles the matrix.
        return {**self.__dict__, "_store": None}

    def attach(self, store: Store) -> "ThemeMatrix":
        """Give the matrix the store it reads excerpts from (after unpickling); returns it."""
        self._store = store
        return self

    @property
    def rows(self) -> list[str]:
        return list(self.counts.index)

    @property
    def codes(self) -> list[str]:
        return list(self.counts.columns)

    def coded(self, row: str, code_id: str) -> list[CodedExcerpt]:
        """The cell's segments with all their codings, in document order."""
        self._check(row, code_id)
        if not self._cell_ids.get((row, code_id)):
            return []
        return list(self._code_items(code_id).get(row, []))

    def excerpts(self, row: str, code_id: str) -> list[Excerpt]:
        """The excerpts behind one cell (one per segment), in document order."""
        return [c.excerpt for c in self.coded(row, code_id)]

    def long(self) -> pd.DataFrame:
        """One line per row × code: row, code_id, code, count, total, share (for csv/json/charts)."""
        records = []
        for row in self.rows:
            for code_id in self.codes:
                records.append({"row": row, "code_id": code_id,
                                "code": self.codebook.get(code_id).heading(),
                                "count": int(self.counts.at[row, code_id]),
                                "total": int(self.totals[row]),
                                "share": float(self.shares.at[row, code_id])})
        return pd.DataFrame.from_records(
            records, columns=["row", "code_id", "code", "count", "total", "share"])

    def _code_items(self, code_id: str) -> dict[str, list[CodedExcerpt]]:
        """Every row's coded segments for one code, read once (same filters as the counts)."""
        if code_id not in self._coded:
            self._coded[code_id] = code_excerpts(self._require_store(), code_id, self.round, by=self.by,
                                                 statuses=self.statuses, coders=self.coders)
        return self._coded[code_id]

    def row_texts(self) -> dict[str, list[str]]:
        """Each row's participant segment texts (read when first needed)."""
        if self._texts is None:
            texts: dict[str, list[str]] = {}
            for district, group, text in participant_texts(self._require_store(), self.round):
                texts.setdefault(row_label(district, group, self.by), []).append(text)
            self._texts = texts
        return self._texts

    def _require_store(self) -> Store:
        if self._store is None:
            raise RuntimeError("this theme matrix has no store to read excerpts from; call attach(store)")
        return self._store

    def _check(self, row: str, code_id: str) -> None:
        if row not in self.counts.index:
            raise KeyError(f"no row {row!r} in the matrix (rows: {', '.join(self.rows)})")
        if code_id not in self.counts.columns:
            raise KeyError(f"no code {code_id!r} in the matrix")


def code_excerpts(store: Store, code_id: str, round: str | None, *, by: By = "district",
                  statuses: Iterable[str] = ("accepted",),
                  coders: Iterable[str] | None = None) -> dict[str, list[CodedExcerpt]]:
    """One code's participant segments (with all their codings) per row, in document order."""
    raw = store.excerpts(rounds=[round] if round else None, codes=[code_id], statuses=tuple(statuses),
                         coders=list(coders) if coders is not None else None)
    rows: dict[str, list[CodedExcerpt]] = {}
    for item in merge_excerpts(e for e in raw if e.segment.role == "participant"):
        rows.setdefault(row_label(item.segment.district, item.segment.group, by), []).append(item)
    return rows


def theme_matrix(store: Store, *, round: str | None = None, by: By = "district",
                 statuses: Iterable[str] = ("accepted",),
                 coders: Iterable[str] | None = None) -> ThemeMatrix:
    """Build the row × code matrix of participant segments (see the module docstring).

    Args:
        round: one round (e.g. "2017"); ``None`` pools every round.
        by: "district" (the project group as its own row) or "group".
        statuses: ("accepted",) for confirmed codings; add "suggested" to include the
            machine's open suggestions.
        coders: only these coders' codings (``None``: anyone's).
    """
    statuses = tuple(statuses)
    coders = tuple(coders) if coders is not None else None
    codebook = store.codebook()
    totals: Counter[str] = Counter()
    words: Counter[str] = Counter()
    for district, group, text in participant_texts(store, round):
        label = row_label(district, group, by)
        totals[label] += 1
        words[label] += len(text.split())
    cells: dict[tuple[str, str], list[int]] = {}
    for segment_id, code_id, district, group in coded_participant_segments(
            store, round=round, statuses=statuses, coders=coders):
        cells.setdefault((row_label(district, group, by), code_id), []).append(segment_id)
    rows = row_order(totals)
    codes = list(codebook.ids)
    counts = pd.DataFrame(0, index=pd.Index(rows, name=by), columns=pd.Index(codes, name="code_id"),
                          dtype="int64")
    for (row, code_id), ids in cells.items():
        if code_id in counts.columns:
            counts.at[row, code_id] = len(ids)
    total_series = pd.Series([totals[r] for r in rows], index=counts.index, name="segments", dtype="int64")
    shares = counts.div(total_series.where(total_series > 0), axis=0).fillna(0.0)
    return ThemeMatrix(counts=counts, shares=shares, totals=total_series,
                       words=pd.Series([words[r] for r in rows], index=counts.index, name="words",
                                       dtype="int64"),
                       codebook=codebook, by=by, round=round, statuses=statuses, coders=coders,
                       _cell_ids=cells, _store=store)


def cooccurrence(store: Store, *, round: str | None = None, row: str | None = None, by: By = "district",
                 statuses: Iterable[str] = ("accepted",),
                 coders: Iterable[str] | None = None) -> pd.DataFrame:
    """Code × code: the number of participant segments carrying both codes.

    The diagonal is the number of segments carrying the code at all. ``row``
    restricts the count to one district (or group).
    """
    matrix = theme_matrix(store, round=round, by=by, statuses=statuses, coders=coders)
    return matrix_cooccurrence(matrix, row=row)


def matrix_cooccurrence(matrix: ThemeMatrix, *, row: str | None = None) -> pd.DataFrame:
    """:func:`cooccurrence` from an already built matrix (the app builds it once)."""
    codes = matrix.codes
    per_segment: dict[int, set[str]] = {}
    for (cell_row, code_id), ids in matrix._cell_ids.items():
        if row is not None and cell_row != row:
            continue
        for segment_id in ids:
            per_segment.setdefault(segment_id, set()).add(code_id)
    position = {c: i for i, c in enumerate(codes)}
    grid = np.zeros((len(codes), len(codes)), dtype="int64")
    for present in per_segment.values():
        idx = [position[c] for c in present if c in position]
        for i in idx:
            for j in idx:
                grid[i, j] += 1
    return pd.DataFrame(grid, index=pd.Index(codes, name="code_id"), columns=pd.Index(codes, name="code_id"))


# ------------------------------------------------------------------ summaries
# Filler words of spoken Danish and very common verbs, adverbs and numerals that the
# general stop list lacks; they would otherwise top every cell's "distinctive" terms.
SPOKEN_FILLERS = {
    "altså", "ja", "nej", "jamen", "nå", "øh", "øhm", "hmm", "mm", "okay", "ok", "bare", "rigtig",
    "rigtigt", "helt", "faktisk", "egentlig", "vel", "tror", "synes", "tænker", "ting", "sådan",
    "godt", "gode", "ret", "hvert", "fald", "enig", "både", "sgu", "osv", "fx", "præcis", "nemlig",
    "gerne", "hele", "omvendt", "rundt", "sent", "hos", "inden", "uge", "dag", "gang", "gange", "år",
    "sted", "måde", "del", "masse", "slags", "lige", "igen", "ellers", "heller", "aldrig", "tit",
    "være", "have", "blive", "komme", "sige", "gøre", "kunne", "skulle", "ville", "måtte", "få", "gå",
    "se", "tage", "give", "stå", "ligge", "sætte", "holde", "høre", "vide", "tro", "mene", "tale",
    "snakke", "spørge", "ske", "bruge", "prøve", "begynde", "hedde", "finde", "tænke", "kende",
    "to", "tre", "fire", "fem", "seks", "syv", "otte", "ni", "ti", "første", "anden", "sidste",
    "sin", "sit", "sine", "derude", "herinde", "derinde",
}
_WORD = re.compile(r"[a-zæøåäöüé]+(?:-[a-zæøåäöüé]+)*")


@lru_cache(maxsize=1)
def _lemma_table() -> dict[str, str]:
    """spaCy's Danish lemma lookup table (spacy-lookups-data; read locally, never downloaded)."""
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "da_lemma_lookup.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    """spaCy's Danish stop words plus :data:`SPOKEN_FILLERS`.

    The list is read from spaCy's source file without importing spaCy itself, which
    would take a second or more on a first call from the app or the CLI.
    """
    import importlib.util

    spec = importlib.util.find_spec("spacy")
    path = Path(spec.origin).parent / "lang" / "da" / "stop_words.py" if spec and spec.origin else None
    if path is not None and path.exists():
        namespace: dict = {}
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # a literal set
        words = namespace["STOP_WORDS"]
    else:
        from spacy.lang.da.stop_words import STOP_WORDS as words
    return frozenset(words) | SPOKEN_FILLERS


def terms(text: str) -> list[str]:
    """Content lemmas of a text: lower-cased, lemmatised by lookup, stop words removed."""
    table, stop = _lemma_table(), _stop_words()
    out = []
    for token in _WORD.findall(text.casefold()):
        if token in stop:
            continue
        lemma = table.get(token, token).casefold()
        if len(lemma) < 3 or lemma in stop:
            continue
        out.append(lemma)
    return out


def _centroid_similarity(tokens: list[list[str]]) -> np.ndarray:
    """Cosine similarity of each text's TF-IDF vector (sublinear tf, smoothed idf, l2-normed)
    to the mean vector of all of them."""
    vocabulary = {t: i for i, t in enumerate(sorted({t for toks in tokens for t in toks}))}
    x = np.zeros((len(tokens), len(vocabulary)))
    for row, toks in enumerate(tokens):
        for term, k in Counter(toks).items():
            x[row, vocabulary[term]] = 1.0 + math.log(k)
    df = (x > 0).sum(axis=0)
    x *= np.log((1 + len(tokens)) / (1 + df)) + 1.0
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    centroid = x.mean(axis=0)
    return x @ centroid / (np.linalg.norm(centroid) or 1.0)


def _representative(items: list[CodedExcerpt], n: int) -> list[CodedExcerpt]:
    """The ``n`` excerpts closest (cosine, TF-IDF) to the cell's centroid.

    Very short answers ("Ja, helt enig") are only chosen when nothing longer exists:
    a representative quote must carry content.
    """
    tokens = [terms(i.text) for i in items]
    if n >= len(items) or not any(tokens):
        scored = list(range(len(items)))
        return [items[i] for i in sorted(scored, key=lambda i: -len(tokens[i]))][:n]
    similarity = _centroid_similarity(tokens)
    substantive = np.array([len(t) >= 4 for t in tokens])
    order = sorted(range(len(items)), key=lambda i: (not substantive[i], -similarity[i], i))
    return [items[i] for i in order[:n]]


def representative_excerpts(items: list[CodedExcerpt], n: int) -> list[CodedExcerpt]:
    """The ``n`` excerpts the Temaer page shows as representative (the Word memo draft's default quotes)."""
    return _representative(items, n) if items else []


def _log_odds(target: Counter[str], background: Counter[str], prior_scale: float = 10.0) -> dict[str, float]:
    """z-scores of the log-odds ratio with an informative Dirichlet prior (Monroe et al. 2008).

    The prior is the pooled frequency of each term, so rare words do not win by chance.
    """
    pooled = target + background
    pooled_total = sum(pooled.values())
    n_t, n_b = sum(target.values()), sum(background.values())
    a0 = prior_scale * len(pooled)
    z: dict[str, float] = {}
    for term, count in target.items():
        a_w = a0 * pooled[term] / pooled_total
        y_b = background.get(term, 0)
        delta = (math.log((count + a_w) / (n_t + a0 - count - a_w))
                 - math.log((y_b + a_w) / (n_b + a0 - y_b - a_w)))
        variance = 1.0 / (count + a_w) + 1.0 / (y_b + a_w)
        z[term] = delta / math.sqrt(variance)
    return z


def cell_summary(matrix: ThemeMatrix, row: str, code_id: str, n: int = 3, *,
                 max_terms: int = 8) -> CellSummary:
    """The cell's most representative excerpts and its distinctive terms.

    Representative: closest to the TF-IDF centroid of the cell's excerpts.
    Distinctive terms: log-odds (informative Dirichlet prior) of the cell's lemmas
    against the same code's excerpts in the other rows, which answers "what does
    this district say about this theme that the others do not"; when no other row
    has the code, the other rows' participant talk is the background. Terms occur
    in at least two of the cell's excerpts when the cell has two or more.
    """
    items = matrix.coded(row, code_id)
    if not items:
        return CellSummary([], [])
    representative = [i.excerpt for i in _representative(items, n)]
    cell_tokens = [terms(i.text) for i in items]
    target = Counter(t for toks in cell_tokens for t in toks)
    spread = Counter(t for toks in cell_tokens for t in set(toks))
    background: Counter[str] = Counter()
    for other in matrix.rows:
        if other != row:
            for item in matrix.coded(other, code_id):
                background.update(terms(item.text))
    if not background:
        for other, texts in matrix.row_texts().items():
            if other != row:
                for text in texts:
                    background.update(terms(text))
    scores = _log_odds(target, background)
    min_spread = 2 if len(items) >= 2 else 1
    ranked = sorted((t for t, z in scores.items() if z > 0 and spread[t] >= min_spread),
                    key=lambda t: (-scores[t], t))
    return CellSummary(representative, ranked[:max_terms])


__all__ = ["theme_matrix", "ThemeMatrix", "cell_summary", "CellSummary", "code_excerpts", "cooccurrence",
           "matrix_cooccurrence", "terms", "representative_excerpts"]
