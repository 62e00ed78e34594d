"""Offline Danish lemmas: the spaCy lookup table, compacted, with known errors fixed.

``spacy-lookups-data`` ships a 550,000-entry form -> lemma table. Reading it takes
about three seconds, so it is compacted once into two sorted NumPy arrays of
string hashes (cached on disk, loaded once per process); a whole ``Doc`` is then lemmatised with one vectorised
``searchsorted`` instead of a Python loop over tokens.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import threading
from pathlib import Path
from dataclasses import dataclass

import numpy as np
from spacy.strings import get_string_id

logger = logging.getLogger(__name__)

# Frequent words the lookup table gets wrong (it prefers a rare homograph).
LEMMA_OVERRIDES: dict[str, str] = {
    "med": "med", "godt": "godt", "meget": "meget", "mange": "mange", "anden": "anden",
    "under": "under", "før": "før", "ved": "ved", "gør": "gøre", "tage": "tage",
    "synes": "synes", "lærer": "lærer", "leder": "leder", "tidligere": "tidligere",
    "fint": "fin", "svært": "svær", "når": "når", "rådgiver": "rådgiver", "jer": "jer",
    "lige": "lige", "bare": "bare", "vel": "vel", "selv": "selv", "nok": "nok", "sammen": "sammen",
    "mere": "mere", "mest": "mest", "sidst": "sidst", "først": "først", "netop": "netop",
    "gerne": "gerne", "både": "både", "sag": "sag", "sager": "sag", "sagen": "sag",
    "sagerne": "sag", "møde": "møde", "mødet": "møde", "rådgive": "rådgive", "sparring": "sparring",
    "trivsel": "trivsel", "mistrivsel": "mistrivsel", "pæd": "pæd", "ppr": "ppr", "sos": "sos",
    "plc": "plc", "dagpleje": "dagpleje", "personale": "personale", "hurtigt": "hurtig",
    "tidligt": "tidlig", "oplever": "opleve", "oplevet": "opleve",
}


@dataclass(frozen=True)
class LemmaTable:
    """Sorted lower-case form hashes and the hashes of their lemmas."""

    keys: np.ndarray
    values: np.ndarray
    strings: tuple[str, ...]

    def lemma_hashes(self, lower: np.ndarray) -> np.ndarray:
        """Map an array of lower-case form hashes to lemma hashes (unknown forms map to themselves)."""
        if lower.size == 0:
            return lower
        pos = np.searchsorted(self.keys, lower)
        pos[pos >= self.keys.size] = 0
        hit = self.keys[pos] == lower
        return np.where(hit, self.values[pos], lower)

    def lemma_text(self, value: int) -> str:
        """The string of a lemma hash produced by this table."""
        return _by_hash(self)[value]

    def lemma(self, form: str) -> str:
        """The lemma of one word (lower-cased), for terms and tests."""
        lower = form.lower()
        key = np.array([get_string_id(lower)], dtype=np.uint64)
        value = int(self.lemma_hashes(key)[0])
        return lower if value == int(key[0]) else self.lemma_text(value)


_TABLE: LemmaTable | None = None
_LOCK = threading.Lock()
_BY_HASH: dict[int, dict[int, str]] = {}


def _by_hash(table: LemmaTable) -> dict[int, str]:
    found = _BY_HASH.get(id(table))
    if found is None:
        found = _BY_HASH[id(table)] = {get_string_id(text): text for text in table.strings}
    return found


def _cache_file() -> Path:
    """Where the compacted table is kept between runs (``FOCUSQA_CACHE`` overrides)."""
    import spacy_lookups_data

    base = os.environ.get("FOCUSQA_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "focusqa")
    version = getattr(spacy_lookups_data, "__version__", "0")
    digest = hashlib.sha1(json.dumps(sorted(LEMMA_OVERRIDES.items())).encode()).hexdigest()[:10]
    return Path(base) / f"da-lemmas-{version}-{digest}.npz"


def _read_lookup() -> dict[str, str]:
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "da_lemma_lookup.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def _build_table() -> LemmaTable:
    cache = _cache_file()
    if cache.exists():
        try:
            with np.load(cache, allow_pickle=False) as data:
                strings = tuple(str(data["strings"][()]).split("\n"))
                return LemmaTable(data["keys"], data["values"], strings)
        except (OSError, ValueError, KeyError) as exc:
            logger.info("lemma cache %s unreadable (%s); rebuilding", cache, exc)
    pairs: dict[int, int] = {}
    lemma_strings: set[str] = set()
    for form, lemma in _read_lookup().items():
        form, lemma = form.lower(), str(lemma).lower()
        if form != lemma and form not in LEMMA_OVERRIDES:
            key = get_string_id(form)
            if key not in pairs:
                pairs[key] = get_string_id(lemma)
                lemma_strings.add(lemma)
    for form, lemma in LEMMA_OVERRIDES.items():
        if form != lemma:
            pairs[get_string_id(form)] = get_string_id(lemma)
            lemma_strings.add(lemma)
    keys = np.fromiter(pairs.keys(), dtype=np.uint64, count=len(pairs))
    values = np.fromiter(pairs.values(), dtype=np.uint64, count=len(pairs))
    order = np.argsort(keys, kind="stable")
    table = LemmaTable(keys[order], values[order], tuple(sorted(lemma_strings)))
    _write_cache(cache, table)
    return table


def _write_cache(cache: Path, table: LemmaTable) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, keys=table.keys, values=table.values, strings=np.array("\n".join(table.strings)))
        os.replace(tmp, cache)
    except OSError as exc:
        logger.info("lemma cache not written (%s)", exc)


def lemma_table() -> LemmaTable:
    """The process-wide lemma table (built on first use, about two seconds)."""
    global _TABLE
    if _TABLE is None:
        with _LOCK:
            if _TABLE is None:
                _TABLE = _build_table()
    return _TABLE


def lemmatize(word: str) -> str:
    """The lemma of a single Danish word, lower-cased."""
    return lemma_table().lemma(word)
