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
        time.sleep(0.05)
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
