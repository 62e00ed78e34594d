"""Search the transcripts the way codebook terms are matched: lemmas, inflections, compounds.

A query is words and ``"exact phrases"``; words side by side must all occur in a turn
(AND), ``OR`` (or ``ELLER``) offers alternatives, ``NOT``/``IKKE``/``-word`` leaves out
turns with a word. A bare word matches like a codebook seed term ("underretning" finds
"underretningerne" and "skoleunderretningerne", "sag" finds "sagerne" but not
"sagsbehandler"); a quoted word or phrase matches those exact words only.

Hits are keyword-in-context rows (:class:`Hit`) with the turn number shown everywhere
else (:func:`focusqa.types.turn_number`), and :meth:`SearchResult.counts` gives the
district × round matrix. The text index (tokens, word types and their lemmas) is built
in memory on the first search and reused while the set of documents is unchanged
(:meth:`Store.search_signature`); metadata and codings are read fresh on every search,
so edits to them are seen at once.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Literal

import numpy as np
import pandas as pd
from spacy.attrs import IDX, IS_SPACE, LENGTH, LOWER

from ..config import MACHINE_CODER
from ..errors import FocusqaError
from ..nlp.components import term_stems
from ..nlp.lemmas import lemma_table
from ..nlp.matching import MatchRules, stem_matches
from ..types import turn_number
from . import danish_key, round_order, row_label, row_order

if TYPE_CHECKING:
    from spacy.language import Language

    from ..store import Store

Role = Literal["participant", "moderator", "all"]
Sort = Literal["document", "next"]
STATES = ("accepted", "suggested", "rejected", "uncoded")
CONTEXT_WORDS = 8
NO_ROUND = "–"
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_OR = frozenset({"OR", "ELLER"})
_NOT = frozenset({"NOT", "IKKE"})
_INDEXES: OrderedDict[tuple[str, int], "SearchIndex"] = OrderedDict()
_INDEX_LOCK = threading.Lock()
KEEP_INDEXES = 2


class QueryError(FocusqaError):
    """A search query that cannot be understood (unclosed quote, OR or NOT without a word)."""


@dataclass(frozen=True)
class Term:
    """One searched word or phrase: ``exact`` for quoted text (no inflections, no compounds)."""

    text: str
    words: tuple[str, ...]
    exact: bool = False

    def __str__(self) -> str:
        return f'"{self.text}"' if self.exact else self.text


@dataclass(frozen=True)
class Query:
    """Clauses that must all occur in a turn (each: one of its terms), and excluded terms."""

    text: str
    clauses: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()

    @property
    def terms(self) -> list[Term]:
        """Every term searched for (not the excluded ones), in query order."""
        return [term for clause in self.clauses for term in clause]


@dataclass(frozen=True)
class SearchFilters:
    """Which turns are searched. ``None`` (or empty) means no filter on that field.

    role: participants only by default (moderators ask, participants answer).
    codes: turns carrying one of these codes (accepted by anyone, or an open suggestion).
    states: the turn's coding state, as on the overview: "accepted" (by anyone), else
        "suggested" (an open suggestion), else "rejected", else "uncoded".
    """

    rounds: tuple[str, ...] | None = None
    districts: tuple[str, ...] | None = None
    groups: tuple[str, ...] | None = None
    role: Role = "participant"
    codes: tuple[str, ...] | None = None
    states: tuple[str, ...] | None = None
    document_ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.role not in ("participant", "moderator", "all"):
            raise FocusqaError(f"role must be participant, moderator or all, not '{self.role}'")
        unknown = [s for s in self.states or () if s not in STATES]
        if unknown:
            raise FocusqaError(f"unknown coding status '{unknown[0]}' (use {', '.join(STATES)})")

    def as_dict(self) -> dict:
        """The filters that are set, JSON-ready (for saved searches)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()
                if v not in (None, ()) and not (k == "role" and v == "participant")}

    @classmethod
    def from_dict(cls, values: dict) -> "SearchFilters":
        """The filters saved by :meth:`as_dict`."""
        known = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()
                 if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class Hit:
    """One occurrence in context: the words before, the hit, the words after, and where."""

    segment_id: int
    document_id: int
    document: str
    turn: int
    speaker: str | None
    role: str
    round: str | None
    district: str | None
    group: str | None
    before: str
    match: str
    after: str
    start: int
    end: int
    term: str
    space_before: bool = False   # the text has a space between ``before`` and the hit
    space_after: bool = False    # ... and between the hit and ``after``

    @property
    def left(self) -> str:
        """The context before the hit with the text's own spacing ("underretning." has none)."""
        return self.before + (" " if self.before and self.space_before else "")

    @property
    def right(self) -> str:
        """The context after the hit with the text's own spacing."""
        return (" " if self.after and self.space_after else "") + self.after

    @property
    def next_word(self) -> str:
        """The word after the hit (punctuation skipped), for sorting a concordance."""
        words = (w.strip(".,;:!?\"'()»«–-…").casefold() for w in self.after.split())
        return next((w for w in words if w), "")

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("space_before", "space_after")}


@dataclass
class SearchResult:
    """The hits of a query (in the chosen order) and the turns they are in."""

    query: Query
    filters: SearchFilters
    hits: list[Hit] = field(default_factory=list)

    @property
    def segment_ids(self) -> list[int]:
        """The turns with at least one hit, each once, in hit order."""
        return list(dict.fromkeys(h.segment_id for h in self.hits))

    def counts(self, unit: Literal["hits", "turns"] = "hits") -> pd.DataFrame:
        """Hits (or turns with a hit) per district (rows, as on Temaer) × round (columns)."""
        rows = [(row_label(h.district, h.group), h.round or NO_ROUND, h.segment_id) for h in self.hits]
        frame = pd.DataFrame(rows, columns=["row", "round", "segment_id"])
        if unit == "turns":
            frame = frame.drop_duplicates()
        table = pd.crosstab(frame["row"], frame["round"]) if len(frame) else pd.DataFrame()
        present = set(frame["round"])
        rounds = round_order(present - {NO_ROUND}) + ([NO_ROUND] if NO_ROUND in present else [])
        table = table.reindex(index=row_order(frame["row"]), columns=rounds, fill_value=0)
        table.index.name, table.columns.name = None, None
        return table.astype(int)

    def evidence(self) -> dict[int, dict]:
        """Per turn, the matched words (stored with a coding made from the hits)."""
        found: dict[int, list[str]] = {}
        for hit in self.hits:
            words = found.setdefault(hit.segment_id, [])
            if hit.match not in words:
                words.append(hit.match)
        return {segment_id: {"terms": words} for segment_id, words in found.items()}


# ------------------------------------------------------------------ the query
def parse_query(text: str) -> Query:
    """Read a query: words, "phrases", OR/ELLER between alternatives, NOT/IKKE/-word.

    Raises QueryError for an unclosed quote, an OR or NOT without a word next to it,
    or a query with nothing to find.
    """
    if text.count('"') % 2:
        raise QueryError("a quotation mark is not closed")
    clauses: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = negate = False
    for quoted, bare in _TOKEN.findall(text):
        if quoted == "" and bare == "":
            continue
        if bare in _OR:
            if not clauses or pending_or or negate:
                raise QueryError(f"'{bare}' needs a word on both sides")
            pending_or = True
            continue
        if bare in _NOT:
            negate = True
            continue
        if bare.startswith("-") and len(bare) > 1:
            negate, bare = True, bare[1:]
        term = _term(quoted if bare == "" else bare, exact=bare == "")
        if term is None:
            continue
        if negate:
            if pending_or:
                raise QueryError("OR cannot be followed by NOT")
            excluded.append(term)
            negate = False
        elif pending_or:
            clauses[-1].append(term)
            pending_or = False
        else:
            clauses.append([term])
    if pending_or or negate:
        raise QueryError("the query ends with OR or NOT")
    if not clauses:
        raise QueryError("the query has no word to search for")
    return Query(text.strip(), tuple(tuple(c) for c in clauses), tuple(excluded))


def _term(text: str, *, exact: bool) -> Term | None:
    words = tuple(t.lower_ for t in _nlp().make_doc(text) if not t.is_space and (exact or not t.is_punct))
    return Term(" ".join(text.split()), words, exact) if words else None


@lru_cache(maxsize=1)
def _nlp() -> "Language":
    """A blank Danish tokenizer: the same tokens the codebook matcher sees."""
    import spacy

    return spacy.blank("da")


# ------------------------------------------------------------------ the index
class SearchIndex:
    """Every token of every segment, with its word type, as NumPy arrays.

    A word type's matches are worked out once per searched word (on the list of
    distinct words, not the tokens), and its tokens are found through postings
    (the token positions sorted by type).
    """

    def __init__(self, rows: list[tuple[int, int, int, str | None, str, str, int]]) -> None:
        self.segment_ids = np.array([r[0] for r in rows], dtype=np.int64)
        self.document_ids = np.array([r[1] for r in rows], dtype=np.int64)
        self.turns = [r[2] for r in rows]
        self.speakers = [r[3] for r in rows]
        self.roles = np.array([r[4] for r in rows], dtype=object)
        self.texts = [r[5] for r in rows]
        self.offsets = [r[6] for r in rows]
        self._build_tokens()
        self._matches: dict[tuple[str, bool], np.ndarray] = {}
        self._lock = threading.Lock()

    def _build_tokens(self) -> None:
        nlp = _nlp()
        arrays, owners = [], []
        for row, doc in enumerate(nlp.tokenizer.pipe(self.texts, batch_size=512)):
            arr = doc.to_array([LOWER, IDX, LENGTH, IS_SPACE])
            arr = arr[arr[:, 3] == 0]
            arrays.append(arr[:, :3])
            owners.append(np.full(len(arr), row, dtype=np.int32))
        tokens = np.concatenate(arrays) if arrays else np.zeros((0, 3), dtype=np.uint64)
        self.token_segment = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int32)
        self.token_start = tokens[:, 1].astype(np.int32)
        self.token_end = (tokens[:, 1] + tokens[:, 2]).astype(np.int32)
        hashes, self.token_type = np.unique(tokens[:, 0], return_inverse=True)
        self.token_type = self.token_type.astype(np.int32).ravel()
        strings = nlp.vocab.strings
        self.types = [strings[int(h)] for h in hashes]
        table = lemma_table()
        lemma_hashes = table.lemma_hashes(hashes)
        self.lemmas = [word if int(lh) == int(h) else table.lemma_text(int(lh))
                       for word, h, lh in zip(self.types, hashes, lemma_hashes)]
        self._type_of = {word: i for i, word in enumerate(self.types)}
        self._by_lemma: dict[str, list[int]] = {}
        for i, lemma in enumerate(self.lemmas):
            self._by_lemma.setdefault(lemma, []).append(i)
        self._joined = "\n".join(self.types)
        self._type_starts = np.cumsum([0] + [len(w) + 1 for w in self.types[:-1]]) if self.types else np.zeros(0)
        self._postings = np.argsort(self.token_type, kind="stable").astype(np.int64)
        self._bounds = np.searchsorted(self.token_type[self._postings], np.arange(len(self.types) + 1))

    @property
    def words(self) -> int:
        return len(self.token_type)

    def matching_types(self, word: str, *, exact: bool) -> np.ndarray:
        """Sorted ids of the word types a searched word matches (cached per word)."""
        key = (word, exact)
        found = self._matches.get(key)
        if found is None:
            found = np.array(sorted(self._find_types(word, exact)), dtype=np.int64)
            with self._lock:
                self._matches[key] = found
        return found

    def _find_types(self, word: str, exact: bool) -> set[int]:
        if exact:
            return {self._type_of[word]} if word in self._type_of else set()
        rules = MatchRules()
        found: set[int] = set()
        for stem in term_stems(word):
            candidates = set(self._by_lemma.get(stem, ()))
            pos = self._joined.find(stem)
            while pos >= 0:  # every type containing the stem, found in one joined string
                candidates.add(int(np.searchsorted(self._type_starts, pos, side="right")) - 1)
                pos = self._joined.find(stem, pos + 1)
            found.update(i for i in candidates if stem_matches(self.types[i], self.lemmas[i], stem, rules))
        return found

    def occurrences(self, term: Term) -> np.ndarray:
        """Token positions where ``term`` starts (its words consecutive within one turn)."""
        parts = [self.matching_types(w, exact=term.exact) for w in term.words]
        first = parts[0]
        starts = (np.concatenate([self._postings[self._bounds[t]:self._bounds[t + 1]] for t in first.tolist()])
                  if len(first) else np.zeros(0, dtype=np.int64))
        for k, part in enumerate(parts[1:], start=1):
            member = np.zeros(len(self.types), bool)
            member[part] = True
            later = starts + k
            inside = later < len(self.token_type)
            starts, later = starts[inside], later[inside]
            keep = member[self.token_type[later]] & (self.token_segment[later] == self.token_segment[starts])
            starts = starts[keep]
        return np.sort(starts)


def search_index(store: "Store") -> SearchIndex:
    """The store's index: reused while the documents are the same, else built (seconds at 1 M words).

    Imports and deletions change :meth:`Store.search_signature` and so build a new one;
    the last two are kept, so switching between two databases does not rebuild.
    """
    key = (store.url, hash(store.search_signature()))
    with _INDEX_LOCK:
        index = _INDEXES.get(key)
        if index is not None:
            _INDEXES.move_to_end(key)
            return index
    index = SearchIndex(store.search_segments())
    with _INDEX_LOCK:
        _INDEXES[key] = index
        while len(_INDEXES) > KEEP_INDEXES:
            _INDEXES.popitem(last=False)
    return index


# ------------------------------------------------------------------ searching
def search(store: "Store", query: str | Query, filters: SearchFilters | None = None, *,
           sort: Sort = "document") -> SearchResult:
    """Find a query's words in the project's turns, as keyword-in-context hits.

    store: the project.
    query: the query text (see :func:`parse_query`) or a parsed query.
    filters: which turns to search (participants only by default).
    sort: "document" (documents in order, then turn and place) or "next" (the word
        after the hit, as a concordance).
    Raises QueryError when the query cannot be read.
    """
    parsed = parse_query(query) if isinstance(query, str) else query
    filters = filters or SearchFilters()
    if sort not in ("document", "next"):
        raise FocusqaError(f"sort must be 'document' or 'next', not '{sort}'")
    index = search_index(store)
    metadata = store.search_metadata()
    found = [(term, index.occurrences(term)) for term in parsed.terms]
    rows = _matching_rows(index, parsed, dict(found), filters, metadata, store)
    hits = _hits(index, found, rows, metadata)
    if sort == "next":
        hits.sort(key=lambda h: danish_key(h.next_word))
    return SearchResult(parsed, filters, hits)


def _matching_rows(index: SearchIndex, query: Query, found: dict[Term, np.ndarray], filters: SearchFilters,
                   metadata: dict, store: "Store") -> np.ndarray:
    """Rows (segment positions in the index) with every clause, no excluded term, passing the filters."""
    rows: np.ndarray | None = None
    for clause in query.clauses:
        in_clause = np.unique(np.concatenate([index.token_segment[found[t]] for t in clause]))
        rows = in_clause if rows is None else np.intersect1d(rows, in_clause, assume_unique=True)
    for term in query.excluded:
        rows = np.setdiff1d(rows, index.token_segment[index.occurrences(term)], assume_unique=True)
    if filters.role != "all":
        rows = rows[index.roles[rows] == filters.role]
    allowed = _allowed_documents(metadata, filters)
    if allowed is not None:
        rows = rows[np.isin(index.document_ids[rows], np.fromiter(allowed, dtype=np.int64))]
    if (filters.codes or filters.states) and len(rows):
        rows = _by_coding(index, rows, filters, store)
    return rows


def _allowed_documents(metadata: dict, filters: SearchFilters) -> set[int] | None:
    checks = [(1, filters.rounds), (2, filters.districts), (3, filters.groups)]
    if not any(values for _, values in checks) and not filters.document_ids:
        return None
    return {doc_id for doc_id, meta in metadata.items()
            if all(not values or meta[i] in values for i, values in checks)
            and (not filters.document_ids or doc_id in filters.document_ids)}


def _by_coding(index: SearchIndex, rows: np.ndarray, filters: SearchFilters, store: "Store") -> np.ndarray:
    """Rows whose turn carries one of the codes and is in one of the coding states."""
    segment_ids = index.segment_ids[rows].tolist()
    states: dict[int, set[str]] = {}
    codes: dict[int, set[str]] = {}
    for segment_id, code_id, coder, status in store.coding_states(segment_ids=segment_ids):
        states.setdefault(segment_id, set()).add(status)
        if status == "accepted" or (status == "suggested" and coder == MACHINE_CODER):
            codes.setdefault(segment_id, set()).add(code_id)
    keep = []
    for segment_id in segment_ids:
        if filters.codes and not codes.get(segment_id, set()) & set(filters.codes):
            keep.append(False)
            continue
        seen = states.get(segment_id, set())
        state = next((s for s in ("accepted", "suggested", "rejected") if s in seen), "uncoded")
        keep.append(not filters.states or state in filters.states)
    return rows[np.array(keep, dtype=bool)]


def _hits(index: SearchIndex, found: list[tuple[Term, np.ndarray]], rows: np.ndarray,
          metadata: dict) -> list[Hit]:
    """The occurrences in the kept rows, in document order; overlapping ones count once (longest)."""
    if not len(rows):
        return []
    allowed = np.zeros(len(index.segment_ids), bool)
    allowed[rows] = True
    spans: dict[int, tuple[int, Term]] = {}
    for term, starts in found:
        for start in starts[allowed[index.token_segment[starts]]].tolist():
            end = start + len(term.words)
            if spans.get(start, (0, term))[0] < end:
                spans[start] = (end, term)
    hits: list[Hit] = []
    last_end = -1
    for start in sorted(spans):
        end, term = spans[start]
        if start < last_end:
            continue
        last_end = end
        hits.append(_hit(index, start, end, term, metadata))
    return hits


def _hit(index: SearchIndex, start: int, end: int, term: Term, metadata: dict) -> Hit:
    row = int(index.token_segment[start])
    text = index.texts[row]
    first, last = int(index.token_start[start]), int(index.token_end[end - 1])
    before_words = text[max(0, first - 160):first].split()
    after_words = text[last:last + 160].split()
    before = " ".join(before_words[-CONTEXT_WORDS:])
    after = " ".join(after_words[:CONTEXT_WORDS])
    if len(before_words) > CONTEXT_WORDS or (first > 160 and before_words):
        before = "… " + before
    if len(after_words) > CONTEXT_WORDS or (last + 160 < len(text) and after_words):
        after += " …"
    document_id = int(index.document_ids[row])
    name, round_, district, group = metadata.get(document_id, ("?", None, None, None))
    offset = index.offsets[row]
    return Hit(int(index.segment_ids[row]), document_id, name, turn_number(index.turns[row]),
               index.speakers[row], str(index.roles[row]), round_, district, group, before,
               text[first:last], after, offset + first, offset + last, str(term),
               text[first - 1:first].isspace(), text[last:last + 1].isspace())


def hit_codes(store: "Store", segment_ids: Iterable[int]) -> dict[int, dict[str, bool]]:
    """Per turn, the codes it carries, each ``True`` when someone accepted it and ``False``
    when it is only the machine's open suggestion (a quote is not coded until confirmed)."""
    out: dict[int, dict[str, bool]] = {}
    for segment_id, code_id, coder, status in store.coding_states(segment_ids=list(segment_ids)):
        if status == "accepted" or (status == "suggested" and coder == MACHINE_CODER):
            codes = out.setdefault(segment_id, {})
            codes[code_id] = codes.get(code_id, False) or status == "accepted"
    return out


def seed_terms(query: str | Query) -> list[str]:
    """The query's terms as codebook seed terms (excluded terms left out, quotes dropped)."""
    parsed = parse_query(query) if isinstance(query, str) else query
    return list(dict.fromkeys(" ".join(term.words) for term in parsed.terms))


def code_hits(store: "Store", result: SearchResult, code_id: str, coder: str, *,
              segment_ids: Iterable[int] | None = None, as_suggestions: bool = False) -> tuple[int, int]:
    """Code the turns of some (default: all) hits with one code, as one undoable step.

    Returns (written, skipped: already coded). See :meth:`Store.code_hits`.
    """
    chosen = result.segment_ids if segment_ids is None else list(dict.fromkeys(segment_ids))
    evidence = result.evidence()
    return store.code_hits(chosen, code_id, coder, as_suggestions=as_suggestions,
                           evidence={i: evidence[i] for i in chosen if i in evidence},
                           query=result.query.text)
