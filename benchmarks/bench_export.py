"""How fast the exports are: 10,000 excerpts to .docx (target ≤ 10 s, issue 6), plus xlsx and the matrix.

The database is built here: the demo corpus's transcripts imported ``--copies`` times
(as separate rounds, so the overview has several tables) and every participant segment
coded with one or two codes by two coders and the machine, until there are at least
``--excerpts`` segment × code excerpts. Masking is on, as it is by default. The script
prints each figure and its ratio to the target (below 1.0 is within target).

    .venv/bin/python benchmarks/bench_export.py
    .venv/bin/python benchmarks/bench_export.py --excerpts 20000
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "corpora" / "socialraadgivere"
TARGET_S = 10.0


def build(url: str, excerpts: int) -> int:
    """Import copies of the demo transcripts and code them; returns the number of excerpts."""
    sys.path.insert(0, str(ROOT))
    from focusqa.ingest import discover, read_transcript
    from focusqa.store import Store
    from focusqa.store.models import Coding

    store = Store(url)
    codes = store.codebook().ids
    items = [i for i in discover([DEMO]) if i.error is None]
    parsed = [read_transcript(i.path, i.metadata) for i in items]
    made, copy = 0, 0
    while made < excerpts:
        copy += 1
        for doc in parsed:
            doc.metadata.round = f"{2015 + copy}"
            doc.plain_text += " "  # a different content hash: a new document
            store.import_document(doc, actor="bench")
        segments = [s for s in store.segments(role="participant") if s.round == f"{2015 + copy}"]
        with store.session() as s:
            for n, seg in enumerate(segments):
                first = codes[n % len(codes)]
                s.add(Coding(segment_id=seg.id, code_id=first, coder="Anna", origin="human", status="accepted"))
                made += 1
                if n % 3 == 0:
                    s.add(Coding(segment_id=seg.id, code_id=first, coder="Bo", origin="human", status="accepted"))
                if n % 2 == 0:
                    second = codes[(n + 3) % len(codes)]
                    s.add(Coding(segment_id=seg.id, code_id=second, coder="focusqa", origin="auto",
                                 status="accepted", score=0.5 + (n % 50) / 100, evidence={}))
                    made += 1
                if made >= excerpts:
                    break
    store.dispose()
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--excerpts", type=int, default=10_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from focusqa.analysis.themes import theme_matrix
    from focusqa.export.docx import export_docx
    from focusqa.export.tables import export_xlsx
    from focusqa.store import Store

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        started = time.perf_counter()
        made = build(url, args.excerpts)
        print(f"built a database with {made} excerpts in {time.perf_counter() - started:.1f} s")
        store = Store(url)
        for layout in ("code-district", "rounds"):
            out = Path(folder) / f"{layout}.docx"
            started = time.perf_counter()
            report = export_docx(store, out, layout=layout, names=["Karen Jensen"])
            seconds = time.perf_counter() - started
            print(f"docx {layout:14s} {report.excerpts:6d} excerpts  {seconds:6.2f} s  "
                  f"ratio to the {TARGET_S:.0f} s target: {seconds / TARGET_S:.2f}  "
                  f"({out.stat().st_size / 1e6:.1f} MB)")
        started = time.perf_counter()
        rows = export_xlsx(store, io.BytesIO(), names=["Karen Jensen"])
        seconds = time.perf_counter() - started
        print(f"xlsx                {rows:6d} rows      {seconds:6.2f} s  (no target; for comparison)")
        started = time.perf_counter()
        matrix = theme_matrix(store)
        print(f"theme matrix        {int(matrix.counts.to_numpy().sum()):6d} cells' excerpts "
              f"{time.perf_counter() - started:6.2f} s  (no target)")
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
