"""Killing focusqa (SIGKILL, as a crash or a power cut of the process would) loses no
consistency: every document in the database is whole, and the same command simply
runs again to completion."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from focusqa.ingest import read_transcript
from focusqa.store.models import AuditEntry, Document, SegmentRow

FILES = 40
TURNS = 150


def _transcripts(folder: Path) -> Path:
    folder.mkdir()
    for n in range(FILES):
        lines = []
        for t in range(TURNS + n % 7):
            speaker = "I" if t % 5 == 0 else f"Rådgiver {t % 4 + 1}"
            lines.append(f"{speaker}: Fil {n}, tur {t}: samarbejdet med skolen og familierne fungerer "
                         f"{'godt' if (n + t) % 3 else 'mindre godt'}, og dokumentationen tager tid.")
        (folder / f"gruppe_{n:03d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


class DocumentCounter:
    """Counts stored documents through one engine (polled while the command runs)."""

    def __init__(self, url: str):
        self.engine = create_engine(url)

    def __call__(self) -> int:
        try:
            with self.engine.connect() as conn:
                return conn.execute(select(func.count()).select_from(Document)).scalar_one()
        except Exception:  # noqa: BLE001 - the schema may not exist yet in the first instant
            return 0


def _start(args: list[str], url: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "focusqa.cli", *args, "--db", url], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"finished before it could be killed: {proc.stdout.read().decode()[-500:]}"
        assert time.monotonic() < deadline, "the command made no progress"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL


def _assert_consistent(url: str, folder: Path, expected_segments: dict[str, int]) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if url.startswith("sqlite"):
                assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            counts = dict(conn.execute(select(Document.name, func.count(SegmentRow.id))
                                       .join(SegmentRow, SegmentRow.document_id == Document.id, isouter=True)
                                       .group_by(Document.name)).all())
            imports = conn.execute(select(func.count()).select_from(AuditEntry)
                                   .where(AuditEntry.action == "import")).scalar_one()
    finally:
        engine.dispose()
    for name, count in counts.items():
        assert count == expected_segments[name], f"{name} is half-imported: {count} of {expected_segments[name]}"
    assert imports == len(counts), "every stored document has its audit entry, and no entry lacks its document"
    return len(counts)


def test_import_killed_midway_leaves_whole_documents_and_reruns(any_db_url: str, tmp_path: Path) -> None:
    folder = _transcripts(tmp_path / "transcripts")
    expected = {p.name: len(read_transcript(p).segments) for p in sorted(folder.iterdir())}
    assert min(expected.values()) >= TURNS

    seen = []
    documents = DocumentCounter(any_db_url)
    for threshold in (2, 15):  # two crashes at different points of the same import
        proc = _start(["import", str(folder)], any_db_url)
        _kill_when(proc, lambda: documents() >= threshold)
        stored = _assert_consistent(any_db_url, folder, expected)
        assert threshold <= stored < FILES, "killed mid-way"
        seen.append(stored)
    documents.engine.dispose()

    done = subprocess.run([sys.executable, "-m", "focusqa.cli", "import", str(folder), "--db", any_db_url],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"{FILES} ok, 0 failed" in done.stdout
    assert done.stdout.count("already present") == seen[-1], "the files imported before the kill are not duplicated"
    assert _assert_consistent(any_db_url, folder, expected) == FILES


class WriteWatcher:
    """True once another connection is inside a write transaction on the database.

    SQLite: a writer holds the database's write lock until it commits, so our own
    attempt to take it fails. PostgreSQL: we hold an exclusive lock on the audit log
    (reads still work), so the writer's transaction, which ends with its audit entry,
    stops there inside its transaction (after deleting the old suggestions); we see it waiting.
    """

    def __init__(self, url: str):
        self.url = url
        self.engine = None
        self.blocker = None
        if not url.startswith("sqlite"):
            self.engine = create_engine(url)
            self.blocker = self.engine.connect()
            self.blocker.execute(text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))

    def __call__(self) -> bool:
        if self.engine is None:
            import sqlite3

            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError:
                return True  # "database is locked": a writer is mid-transaction
            finally:
                conn.close()
        with self.engine.connect() as conn:
            return bool(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO audit_log%'")
            ).scalar_one())

    def release(self) -> None:
        """Let go of the lock and wait until the killed writer's server session is gone."""
        if self.engine is None:
            return
        self.blocker.rollback()
        self.blocker.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with self.engine.connect() as conn:
                if not conn.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL")).scalar_one():
                    break
            time.sleep(0.05)
        self.engine.dispose()


def _machine_and_human(url: str) -> tuple[int, list[tuple], int]:
    from focusqa.config import MACHINE_CODER
    from focusqa.store.models import Coding

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            machine = conn.execute(select(func.count()).select_from(Coding)
                                   .where(Coding.coder == MACHINE_CODER)).scalar_one()
            human = sorted(conn.execute(select(Coding.segment_id, Coding.code_id, Coding.coder, Coding.status,
                                               Coding.version).where(Coding.coder != MACHINE_CODER)).all())
            runs = conn.execute(select(func.count()).select_from(AuditEntry)
                                .where(AuditEntry.action == "autocode")).scalar_one()
            if url.startswith("sqlite"):
                assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    finally:
        engine.dispose()
    return machine, [tuple(h) for h in human], runs


def test_autocode_killed_while_writing_leaves_no_partial_suggestions(any_db_url: str) -> None:
    from focusqa.cli import main
    from focusqa.store import Store

    from conftest import DEMO

    assert main(["import", str(DEMO), "--db", any_db_url]) == 0
    store = Store(any_db_url)
    codes = store.codebook().ids
    for n, seg in enumerate(store.segments(role="participant")[:60]):
        store.set_coding(seg.id, codes[n % len(codes)], "anna", "accepted" if n % 3 else "rejected")
    store.dispose()
    _, human_before, _ = _machine_and_human(any_db_url)

    writing = WriteWatcher(any_db_url)
    proc = _start(["autocode"], any_db_url)
    try:
        _kill_when(proc, writing, timeout=120)
    finally:
        writing.release()
    machine, human, runs = _machine_and_human(any_db_url)
    print(f"autocode killed while writing: {machine} suggestions, {runs} completed runs")
    assert human == human_before, "human codings are untouched by a crashed autocode"

    done = subprocess.run([sys.executable, "-m", "focusqa.cli", "autocode", "--db", any_db_url],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    full, human_after, runs_after = _machine_and_human(any_db_url)
    assert full > 100 and human_after == human_before
    assert (machine, runs) in {(0, 0), (full, 1)}, f"killed autocode left {machine} of {full} suggestions"
    assert runs_after == runs + 1
