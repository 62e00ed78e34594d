"""How fast the app answers: each page's first render and the coding actions, timed with AppTest.

Targets (issue 5): every interaction within 300 ms of server time on the demo corpus,
and the app ready within 5 s of start. AppTest runs the real script in this process, so
a run's wall time is the server's time for that interaction (plus AppTest's own small
overhead, so the figures are an upper bound). Nothing here is a pass/fail test; the
script prints the figures and their ratio to the target.

    .venv/bin/python benchmarks/bench_app.py              # demo corpus
    .venv/bin/python benchmarks/bench_app.py --scale 50   # demo corpus x50 (about 1M words)
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "corpora" / "socialraadgivere"
TARGET_MS = 300.0
READY_S = 5.0
CODER = "Benchmark"


def build_database(url: str, scale: int) -> None:
    """The demo corpus with its reference coding, ``scale`` times over, plus machine suggestions."""
    sys.path.insert(0, str(ROOT))
    from focusqa.cli import main
    from focusqa.ingest import discover, read_transcript
    from focusqa.store import Store
    from focusqa.tagging import autocode, build_tagger

    if main(["import", str(DEMO), "--with-reference", "--db", url]) != 0:
        raise SystemExit("demo import failed")
    store = Store(url)
    items = discover([DEMO])
    for copy in range(1, scale):
        for item in items:
            parsed = read_transcript(item.path, item.metadata)
            parsed.name = f"kopi{copy:03d}_{parsed.name}"
            parsed.plain_text += f"\n[kopi {copy}]"  # a different content hash: a new document
            store.import_document(parsed, actor="benchmark")
    started = time.perf_counter()
    written = autocode(store, build_tagger(store=store))
    print(f"setup: {len(store.documents())} documents, "
          f"{sum(d.words for d in store.documents()):,} words, {written:,} suggestions "
          f"(auto-coding took {time.perf_counter() - started:.1f} s)")
    store.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_ready_seconds(url: str) -> float:
    """Seconds from `streamlit run app.py` to the health endpoint answering."""
    port = _free_port()
    env = {**os.environ, "FOCUSQA_DATABASE_URL": url}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < 60:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.05)
        return float("inf")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Timer:
    """Collects (name, milliseconds) of AppTest runs."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float]] = []

    def run(self, name: str, at) -> None:
        started = time.perf_counter()
        at.run()
        elapsed = (time.perf_counter() - started) * 1000
        if at.exception:
            raise SystemExit(f"{name}: {[e.value for e in at.exception]}")
        self.rows.append((name, elapsed))

    def report(self) -> None:
        width = max(len(n) for n, _ in self.rows)
        print(f"\n{'interaction':<{width}}  {'ms':>7}  {'ratio to 300 ms':>15}")
        for name, ms in self.rows:
            flag = "" if ms <= TARGET_MS else "  over target"
            print(f"{name:<{width}}  {ms:7.0f}  {ms / TARGET_MS:15.2f}{flag}")
        timed = [ms for name, ms in self.rows if not name.startswith("(")]
        print(f"\ninteractions: {len(timed)}, median {statistics.median(timed):.0f} ms, "
              f"max {max(timed):.0f} ms, within 300 ms: {sum(ms <= TARGET_MS for ms in timed)}/{len(timed)}")


def bench_pages(url: str) -> Timer:
    from streamlit.testing.v1 import AppTest

    from focusqa.store import Store

    os.environ["FOCUSQA_DATABASE_URL"] = url
    store = Store(url)
    if store.project_coder(CODER) is None:
        store.add_coder(CODER)
    store.dispose()
    timer = Timer()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    timer.run("(cold start: imports, migrations check, Oversigt)", at)
    timer.run("Oversigt, warm", at)
    at.sidebar.selectbox(key="_focusqa_pick_coder").set_value(CODER)
    timer.run("pick yourself from the coder list", at)
    at.sidebar.button(key="_focusqa_sign_in").click()
    timer.run("sign in as coder", at)
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    pages = [p for p in sorted((ROOT / "pages").glob("*.py")) if f'"views/{p.name}"' in source]
    for page in pages:
        at.switch_page(f"views/{page.name}")
        timer.run(f"open {page.stem} (first render)", at)
        timer.run(f"open {page.stem} (again)", at)
    at.switch_page("views/coding.py")
    timer.run("open coding", at)
    accepts = [b for b in at.button if (b.key or "").startswith("accept_")]
    if accepts:
        accepts[0].click()
        timer.run("coding: accept a suggestion", at)
    rejects = [b for b in at.button if (b.key or "").startswith("reject_")]
    if rejects:
        rejects[0].click()
        timer.run("coding: reject a suggestion", at)
    at.button(key="coding_undo").click()
    timer.run("coding: undo last", at)
    edit = next(b for b in at.button if (b.key or "").startswith("edit_"))
    edit.click()
    timer.run("coding: open the turn editor", at)
    segment = edit.key.removeprefix("edit_")
    at.multiselect(key=f"codes_{segment}").set_value(["organisering"])
    at.button(key=f"save_codes_{segment}").click()
    timer.run("coding: add a code", at)
    at.button_group(key="coding_filter_status").set_value(["open"])
    timer.run("coding: filter open suggestions", at)
    at.button_group(key="coding_filter_status").set_value([])
    timer.run("coding: clear the filter", at)
    if at.pagination:
        at.pagination[0].set_value(2)
        timer.run("coding: next page", at)
    at.selectbox(key="_coding_document_widget").set_value(_last_document(url))
    timer.run("coding: switch document", at)
    at.segmented_control(key="coding_view").set_value("table")
    timer.run("coding: quick table", at)
    at.button(key="coding_refit").click()
    timer.run("(coding: refit the model and re-suggest; not held to 300 ms)", at)
    return timer


def _last_document(url: str) -> int:
    from focusqa.store import Store

    store = Store(url)
    try:
        return store.documents()[-1].id
    finally:
        store.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="import the demo corpus this many times")
    args = parser.parse_args()
    if not DEMO.is_dir():
        print(f"demo corpus missing: {DEMO}")
        return 1
    with tempfile.TemporaryDirectory(prefix="focusqa-bench-app-") as folder:
        os.environ["FOCUSQA_HOME"] = folder
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        build_database(url, args.scale)
        ready = server_ready_seconds(url)
        print(f"app ready (streamlit run -> health check): {ready:.2f} s "
              f"(target {READY_S:.0f} s, ratio {ready / READY_S:.2f})")
        timer = bench_pages(url)
        timer.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
