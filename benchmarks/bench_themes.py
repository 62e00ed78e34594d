"""Temaer and Sammenlign runder at scale: analysis functions and the pages' first render, before/after.

Runs the same measurements on two source trees against one database, each in a fresh
process (cold caches), and prints the times and their ratio: "before" is a git
revision (exported with ``git archive`` to a temporary folder), "after" is this
working tree. Nothing is a pass/fail test.

    .venv/bin/python benchmarks/bench_themes.py --scale 50 --before HEAD~3   # builds a ~1M-word project
    .venv/bin/python benchmarks/bench_themes.py --db sqlite:////tmp/big.db --before HEAD~3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(root: Path, url: str) -> dict[str, float]:
    """Seconds for each step, run from ``root``'s sources (called in a child process)."""
    sys.path.insert(0, str(root))
    os.chdir(root)
    os.environ["FOCUSQA_DATABASE_URL"] = url
    from focusqa.analysis.rounds import compare_rounds
    from focusqa.analysis.themes import cell_summary, theme_matrix
    from focusqa.store import Store
    from streamlit.testing.v1 import AppTest

    assert Path(sys.modules["focusqa"].__file__).is_relative_to(root), "focusqa imported from elsewhere"
    times: dict[str, float] = {}  # pages first, in a fresh process: nothing loaded or cached yet

    def timed(name: str, func):
        started = time.perf_counter()
        result = func()
        times[name] = time.perf_counter() - started
        return result

    at = AppTest.from_file(str(root / "app.py"), default_timeout=600)
    at.run()
    for thread in threading.enumerate():  # the app imports the auto-coder in the background at start
        if thread.name == "focusqa-warm-up":
            thread.join()
    for page in ("themes", "rounds"):
        at.switch_page(f"views/{page}.py")
        timed(f"page {page}: first render", at.run)
        if at.exception:
            raise SystemExit(f"{page}: {[e.value for e in at.exception]}")
        timed(f"page {page}: again", at.run)
        at.toggle(key=f"{page}_suggestions").set_value(True)
        timed(f"page {page}: include open suggestions", at.run)

    store = Store(url)
    rounds = sorted({d.round for d in store.documents() if d.round})
    latest = rounds[-1]
    matrix = timed("theme_matrix (latest round, accepted)", lambda: theme_matrix(store, round=latest))
    timed("theme_matrix (latest round, with suggestions)",
          lambda: theme_matrix(store, round=latest, statuses=("accepted", "suggested")))
    row = matrix.counts.sum(axis=1).idxmax()
    code = matrix.counts.loc[row].idxmax()
    timed("cell excerpts + cell_summary (busiest cell)",
          lambda: (matrix.excerpts(row, code), cell_summary(matrix, row, code, n=3)))
    timed("compare_rounds (first vs latest)", lambda: compare_rounds(store, rounds[0], latest))
    store.dispose()

    return times


def run_tree(root: Path, url: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(root), "--db", url],
                         env=env, cwd=root, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"measuring {root} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing project database (else one is built with --scale)")
    parser.add_argument("--scale", type=int, default=50, help="demo corpus copies when building a database")
    parser.add_argument("--before", default="HEAD", help="git revision to compare the working tree with")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child), args.db)))
        return 0
    with tempfile.TemporaryDirectory(prefix="focusqa-bench-themes-") as folder:
        os.environ["FOCUSQA_HOME"] = folder
        url = args.db
        if url is None:
            sys.path.insert(0, str(ROOT / "benchmarks"))
            from bench_app import build_database

            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            build_database(url, args.scale)
        before = Path(folder) / "before"
        before.mkdir()
        archive = subprocess.run(["git", "archive", args.before], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
        old = run_tree(before, url)
        new = run_tree(ROOT, url)
    width = max(len(k) for k in new)
    print(f"\n{'step':<{width}}  {'before s':>8}  {'after s':>8}  {'before/after':>12}")
    for name, seconds in new.items():
        previous = old.get(name, float("nan"))
        print(f"{name:<{width}}  {previous:8.2f}  {seconds:8.2f}  {previous / seconds:12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
