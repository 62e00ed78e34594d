"""Five coders accepting and rejecting the same machine suggestions at once.

Each coder is a thread with its own Store (as each browser session of the app has),
reviewing suggestions drawn from a deliberately small shared pool so that coders
collide all the time. A review that loses the race gets a ConflictError: the app
shows it and reloads, so it counts as a *conflict*, not an error. Reported per
backend (SQLite always; PostgreSQL when FOCUSQA_TEST_POSTGRES_URL is set):

* operations: reviews saved; conflicts: reviews refused because someone else was first
* errors: any other exception (target 0)
* lost updates (target 0): two saved reviews made from the same version of a suggestion
  (the second overwrote the first without seeing it), a suggestion whose final status is
  not the last saved decision, or a coder whose own coding differs from what they last saved.

    .venv/bin/python benchmarks/load_coders.py [--seconds 60] [--coders 5]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from focusqa.config import MACHINE_CODER  # noqa: E402
from focusqa.errors import ConflictError  # noqa: E402
from focusqa.ingest import parse_text  # noqa: E402
from focusqa.store import Store  # noqa: E402
from focusqa.types import CodeSuggestion  # noqa: E402


@dataclass
class CoderLog:
    name: str
    saved: list[tuple[int, str, int, str, float]] = field(default_factory=list)  # seg, code, from version, decision, t
    conflicts: int = 0
    errors: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)


def _project(url: str, documents: int, turns: int, pool: int, seed: int) -> list[tuple[int, str]]:
    """A project with machine suggestions; returns the shared pool of (segment, code) to review."""
    store = Store(url)
    rng = random.Random(seed)
    for d in range(documents):
        text = "\n".join(f"{'I' if t % 4 == 0 else f'Rådgiver {t % 3 + 1}'}: Dokument {d}, tur {t} om "
                         f"samarbejdet med skolen og familierne." for t in range(turns))
        store.import_document(parse_text(text, f"gruppe_{d}.txt"), actor="load")
    codes = store.codebook().ids
    segments = [s.id for s in store.segments(role="participant")]
    store.replace_suggestions({s: [CodeSuggestion(c, None, c, round(rng.random(), 3), {})
                                   for c in rng.sample(codes, 2)] for s in segments})
    suggestions = [(c.segment_id, c.code_id) for c in store.codings(coder=MACHINE_CODER)]
    store.dispose()
    return rng.sample(suggestions, min(pool, len(suggestions)))


def _coder(url: str, log: CoderLog, pool: list[tuple[int, str]], stop: float, seed: int) -> None:
    store = Store(url, upgrade=False)
    rng = random.Random(seed)
    while time.monotonic() < stop:
        seg, code = rng.choice(pool)
        started = time.perf_counter()
        try:
            # what the page shows: the suggestion and its version
            row = next(c for c in store.codings(segment_ids=[seg], coder=MACHINE_CODER) if c.code_id == code)
            decision = rng.choice(["accepted", "rejected"])
            store.review(seg, code, log.name, decision, expected_version=row.version)
            log.saved.append((seg, code, row.version, decision, time.monotonic()))
        except ConflictError:
            log.conflicts += 1  # shown to the coder, who sees the current state: not an error
        except Exception as exc:  # noqa: BLE001 - every other failure is counted and reported
            log.errors[f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"] += 1
        log.latencies.append(time.perf_counter() - started)
    store.dispose()


def _lost_updates(url: str, logs: list[CoderLog]) -> list[str]:
    store = Store(url, upgrade=False)
    problems: list[str] = []
    by_base: dict[tuple[int, str, int], list[str]] = {}
    last_decision: dict[tuple[int, str], tuple[int, str]] = {}
    own_last: dict[tuple[int, str, str], str] = {}
    for log in logs:
        for seg, code, version, decision, _ in log.saved:
            by_base.setdefault((seg, code, version), []).append(log.name)
            if version >= last_decision.get((seg, code), (-1, ""))[0]:
                last_decision[(seg, code)] = (version, decision)
            own_last[(seg, code, log.name)] = decision  # a coder's saves are in order
    problems += [f"suggestion {k[:2]} v{k[2]} saved by {', '.join(v)}" for k, v in by_base.items() if len(v) > 1]
    current = {(c.segment_id, c.code_id, c.coder): c for c in store.codings()}
    for (seg, code), (version, decision) in last_decision.items():
        row = current[(seg, code, MACHINE_CODER)]
        if row.status != decision or row.version != version + 1:
            problems.append(f"suggestion {(seg, code)} shows {row.status} v{row.version}, "
                            f"last saved {decision} from v{version}")
    for (seg, code, coder), decision in own_last.items():
        row = current.get((seg, code, coder))
        if row is None or row.status != decision:
            problems.append(f"{coder}'s coding of {(seg, code)} is {row.status if row else 'missing'}, saved {decision}")
    store.dispose()
    return problems


def run(url: str, label: str, seconds: float, coders: int, pool: int, seed: int) -> bool:
    shared = _project(url, documents=5, turns=80, pool=pool, seed=seed)
    logs = [CoderLog(f"koder{n + 1}") for n in range(coders)]
    stop = time.monotonic() + seconds
    threads = [threading.Thread(target=_coder, args=(url, log, shared, stop, seed + n)) for n, log in enumerate(logs)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    lost = _lost_updates(url, logs)
    ops = sum(len(log.saved) for log in logs)
    conflicts = sum(log.conflicts for log in logs)
    errors = sum((log.errors for log in logs), Counter())
    latencies = sorted(x for log in logs for x in log.latencies)
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else 0.0
    p95 = latencies[int(len(latencies) * 0.95)] * 1000 if latencies else 0.0
    print(f"{label}: {coders} coders, {elapsed:.0f} s, {len(shared)} shared suggestions")
    print(f"  operations (reviews saved): {ops} ({ops / elapsed:.1f}/s), per coder "
          f"{', '.join(str(len(log.saved)) for log in logs)}")
    print(f"  conflicts shown to a coder:  {conflicts} ({conflicts / max(1, ops + conflicts):.0%} of attempts)")
    print(f"  latency per review:          p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    print(f"  errors:                      {sum(errors.values())}")
    for message, count in errors.most_common(5):
        print(f"    {count} x {message}")
    print(f"  lost updates:                {len(lost)}")
    for problem in lost[:5]:
        print(f"    {problem}")
    ok = not errors and not lost and ops > 0
    print(f"  {'OK' if ok else 'FAILED'}: target is zero errors and zero lost updates")
    return ok


def _postgres_database(base: str):
    from sqlalchemy import create_engine, text

    name = f"focusqa_load_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.rsplit("/", 1)[0] + "/" + name, drop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long the coders work (default 60)")
    parser.add_argument("--coders", type=int, default=5)
    parser.add_argument("--pool", type=int, default=60, help="suggestions the coders share (small = more collisions)")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'load.db'}"
        ok &= run(url, "SQLite", args.seconds, args.coders, args.pool, args.seed)
    base = os.environ.get("FOCUSQA_TEST_POSTGRES_URL")
    if base:
        url, drop = _postgres_database(base)
        try:
            ok &= run(url, "PostgreSQL", args.seconds, args.coders, args.pool, args.seed)
        finally:
            drop()
    else:
        print("PostgreSQL: skipped (set FOCUSQA_TEST_POSTGRES_URL, as .ci/run does, to include it)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
