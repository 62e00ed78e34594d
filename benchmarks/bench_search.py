"""Search at 1 M words: index build, server time per query, the Søg page's rerun.

The project is built from non-repeating text: a word-level Markov chain (order 2, fixed
seed) trained on the demo corpus and the background documents, with one word in twenty
replaced by a random form from the Danish lemma lookup, so the vocabulary grows as a
real project's does instead of repeating the same turns. 500 interviews (five districts ×
two rounds × 50), a moderator question every six turns.

How the index stays in step: it lives in memory, keyed by the list of (document id,
content hash) that ``Store.search_signature`` reads on every search (one small query).
An import or a deletion changes the key and the next search builds a new index; segment
text never changes otherwise. Metadata (round, district, group) and codings are read
from the database on every search, so their edits count at once without a rebuild.

    .venv/bin/python benchmarks/bench_search.py [--words 1000000] [--repeat 5] [--db URL]
"""

from __future__ import annotations

import argparse
import logging
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 300
QUERIES = [
    ("underretning", {}),
    ("skoleudtalelse OR ventetid", {}),
    ('"åben rådgivning"', {}),
    ("sag -sagsbehandler", {}),
    ("familiegruppe samarbejde", {"districts": ("Nord",), "rounds": ("2017",)}),
    ("forældre", {"role": "all"}),
    ("underretning", {"states": ("uncoded",)}),
    ("underretning", {"codes": ("tidlig-indsats",)}),
]
DISTRICTS = ("Nord", "Syd", "Øst", "Vest", "Centrum")
SPEAKERS = ("Rådgiver 1", "Rådgiver 2", "Teamleder", "Pædagog", "Lærer")


def training_words() -> list[str]:
    """The words of the demo corpus and the background documents, in order."""
    sys.path.insert(0, str(ROOT))
    from focusqa.ingest import discover, read_transcript

    words: list[str] = []
    for item in discover([ROOT / "corpora" / "socialraadgivere"]):
        for segment in read_transcript(item.path, item.metadata).segments:
            words += segment.text.split()
    for path in sorted((ROOT.parent / "shared" / "background").glob("*.txt")):
        words += path.read_text(encoding="utf-8").split()
    return words


def danish_forms() -> list[str]:
    import gzip
    import json

    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "da_lemma_lookup.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return sorted(w for w in json.load(handle) if w.isalpha())


class TextMaker:
    """New Danish-looking text from a word-level Markov chain (order 2)."""

    def __init__(self, words: list[str], forms: list[str], seed: int = 17) -> None:
        self.random = random.Random(seed)
        self.forms = forms
        self.chain: dict[tuple[str, str], list[str]] = {}
        for a, b, c in zip(words, words[1:], words[2:]):
            self.chain.setdefault((a, b), []).append(c)
        self.starts = [k for k in self.chain if k[0][:1].isupper()]

    def turn(self, n: int) -> str:
        a, b = self.random.choice(self.starts)
        out = [a, b]
        while len(out) < n:
            following = self.chain.get((a, b))
            if not following:
                a, b = self.random.choice(self.starts)
                out += [a, b]
                continue
            c = self.random.choice(following)
            if self.random.random() < 0.05:
                c = self.random.choice(self.forms)
            out.append(c)
            a, b = b, c
        return " ".join(out)


def build_project(url: str, words: int) -> None:
    from focusqa.ingest import parse_text
    from focusqa.store import Store
    from focusqa.types import DocumentMetadata

    maker = TextMaker(training_words(), danish_forms())
    store = Store(url)
    per_document = max(words // 500, 200)
    written = 0
    number = 0
    started = time.perf_counter()
    while written < words:
        round_ = ("2016", "2017")[number % 2]
        district = DISTRICTS[(number // 2) % len(DISTRICTS)]
        lines, count, turn = [], 0, 0
        while count < per_document:
            if turn % 6 == 0:
                text = maker.turn(18)
                lines.append(f"Interviewer: {text}?")
            else:
                text = maker.turn(maker.random.randint(20, 90))
                lines.append(f"{SPEAKERS[turn % len(SPEAKERS)]}: {text}")
            count += len(text.split())
            turn += 1
        parsed = parse_text("\n\n".join(lines), f"{round_}_{district}_{number:03d}.txt",
                            DocumentMetadata(round=round_, district=district, group="familiegruppe"))
        store.import_document(parsed, actor="benchmark")
        written += parsed.word_count
        number += 1
    print(f"setup: {number} documents, {written:,} words ({time.perf_counter() - started:.0f} s)")
    store.dispose()


def measure_queries(url: str, repeat: int) -> list[tuple[str, float, float, int]]:
    from focusqa.analysis.search import SearchFilters, code_hits, search, search_index
    from focusqa.store import Store

    store = Store(url)
    started = time.perf_counter()
    first = search(store, "underretning")
    print(f"first search (builds the index): {time.perf_counter() - started:.2f} s")
    index = search_index(store)
    print(f"index: {index.words:,} tokens, {len(index.types):,} distinct word types")
    code_hits(store, first, "tidlig-indsats", "bench", segment_ids=first.segment_ids[::3])
    rows = []
    for query, filters in QUERIES:
        times = []
        for _ in range(repeat + 1):
            t = time.perf_counter()
            result = search(store, query, SearchFilters(**filters))
            result.counts()
            times.append((time.perf_counter() - t) * 1000)
        rows.append((f"{query} {filters or ''}".strip(), statistics.median(times[1:]), max(times[1:]),
                     len(result.hits)))
    rows += measure_edits(store)
    store.dispose()
    return rows


def measure_edits(store) -> list[tuple[str, float, float, int]]:
    """A metadata edit is seen without a rebuild; an import (and its deletion) rebuilds the index."""
    from focusqa.analysis.search import SearchFilters, search
    from focusqa.ingest import parse_text
    from focusqa.types import DocumentMetadata

    rows = []
    document = store.documents()[0]
    moved = DocumentMetadata(round=document.round, district="Nyt distrikt", group=document.group)
    store.update_document_metadata(document.id, moved, "bench")
    t = time.perf_counter()
    result = search(store, "underretning", SearchFilters(districts=("Nyt distrikt",)))
    rows.append(("after a metadata edit (no rebuild)", (time.perf_counter() - t) * 1000, 0.0, len(result.hits)))
    parsed = parse_text("Interviewer: Og nu?\n\nRådgiver 1: Skoleunderretningerne er blevet bedre.\n",
                        "bench_extra.txt", DocumentMetadata(round="2017", district="Nord"))
    _status, new_id = store.import_document(parsed, actor="bench")
    t = time.perf_counter()
    result = search(store, "underretning")
    rows.append(("after an import (index rebuilt)", (time.perf_counter() - t) * 1000, 0.0, len(result.hits)))
    store.delete_document(new_id, "bench")
    restored = DocumentMetadata(round=document.round, district=document.district, group=document.group)
    store.update_document_metadata(document.id, restored, "bench")
    return rows


def measure_page(url: str, repeat: int) -> list[float]:
    """Server time of the Søg page's rerun after typing a query (AppTest, same process)."""
    import os

    os.environ["FOCUSQA_DATABASE_URL"] = url
    from streamlit.testing.v1 import AppTest

    from focusqa.store import Store

    store = Store(url)
    if store.project_coder("bench") is None:   # signed in as a listed coder, as after the sidebar's sign-in
        store.add_coder("bench")
    store.dispose()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.session_state["focusqa_coder"] = "bench"
    at.run()
    at.switch_page("views/search_page.py").run()
    for name in list(logging.root.manager.loggerDict):  # no "missing ScriptRunContext" lines
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)
    times = []
    for query in ["underretning", "skoleudtalelse OR ventetid", '"åben rådgivning"', "sag -sagsbehandler"] * repeat:
        at.text_input(key="search_query").set_value(query)
        t = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t) * 1000)
        if at.exception:
            raise SystemExit([e.value for e in at.exception])
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", help="a database built by this script, or an empty one to build it in "
                                     "(default: a temporary one)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="focusqa-bench-search-") as folder:
        import os

        os.environ["FOCUSQA_HOME"] = folder
        url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        from focusqa.store import Store

        if not Store(url).documents():  # a new database, or --db naming an empty one
            build_project(url, args.words)
        rows = measure_queries(url, args.repeat)
        width = max(len(r[0]) for r in rows)
        print(f"\n{'query':<{width}}  {'median ms':>9}  {'max ms':>7}  {'hits':>6}")
        for name, median, worst, hits in rows:
            print(f"{name:<{width}}  {median:9.1f}  {worst:7.1f}  {hits:6d}")
        page = measure_page(url, args.repeat)
        worst_query = max(r[2] for r in rows)
        print(f"\nSøg page rerun with a new query: median {statistics.median(page):.0f} ms, "
              f"max {max(page):.0f} ms ({len(page)} runs: {', '.join(f'{t:.0f}' for t in page)})")
        print(f"slowest search {worst_query:.0f} ms: ratio {worst_query / TARGET_MS:.2f} of the {TARGET_MS} ms target")
        print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
