"""`focusqa backup` / `focusqa restore`: a consistent copy while others code, and a faithful restore."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from focusqa.cli import main
from focusqa.errors import FocusqaError
from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.store.backup import backup, restore, snapshot

TRANSCRIPT = "\n".join(
    f"{'I' if i % 3 == 0 else f'Deltager {i % 4 + 1}'}: Tur nummer {i} om samarbejdet med skolen og familien."
    for i in range(60))


def _populated(url: str) -> Store:
    store = Store(url)
    _, doc_id = store.import_document(parse_text(TRANSCRIPT, "gruppe.txt"), actor="test")
    segs = store.segments(doc_id)
    codes = store.codebook().ids
    store.set_coding(segs[1].id, codes[0], "anna")
    store.set_coding(segs[2].id, codes[1], "bo", "rejected")
    store.add_memo("anna", "Vigtigt citat", segment_id=segs[1].id)
    return store


def test_backup_while_another_connection_writes_is_consistent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    store = _populated(url)
    segments = [s.id for s in store.segments()]
    codes = store.codebook().ids
    writer = Store(url)  # a second connection pool, like a colleague's app session
    stop = threading.Event()
    written: list[int] = []

    def keep_coding() -> None:
        for seg in segments:
            for code in codes:
                if stop.is_set():
                    return
                writer.set_coding(seg, code, "writer")
                written.append(seg)

    thread = threading.Thread(target=keep_coding)
    thread.start()
    copies = []
    try:
        for n in range(4):
            while len(written) < 20 * (n + 1) and thread.is_alive():
                stop.wait(0.01)
            out = tmp_path / f"copy{n}.db"
            backup(out, url)
            copies.append(out)
    finally:
        stop.set()
        thread.join()
    assert len(written) >= 80
    seen = set()
    for out in copies:
        assert not Path(f"{out}-wal").exists(), "a backup must be one self-contained file"
        conn = sqlite3.connect(out)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        codings = conn.execute("SELECT count(*) FROM codings WHERE coder='writer'").fetchone()[0]
        audited = conn.execute("SELECT count(*) FROM audit_log WHERE actor='writer' AND action='code'"
                               ).fetchone()[0]
        conn.close()
        # each coding and its audit entry are one transaction: a torn copy would differ
        assert codings == audited
        seen.add(codings)
    assert len(seen) > 1, "the copies should have been taken while the writer was busy"
    writer.dispose()
    store.dispose()


def test_restore_into_a_new_file_is_identical(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'work.db'}"
    store = _populated(url)
    store.dispose()
    assert main(["backup", str(tmp_path / "b.db"), "--db", url]) == 0
    new_url = f"sqlite:///{tmp_path / 'elsewhere' / 'restored.db'}"
    assert main(["restore", str(tmp_path / "b.db"), "--db", new_url]) == 0
    assert snapshot(new_url) == snapshot(url)
    restored = Store(new_url)
    assert [d.name for d in restored.documents()] == ["gruppe.txt"]
    assert {(c.coder, c.status) for c in restored.codings()} == {("anna", "accepted"), ("bo", "rejected")}
    restored.dispose()


def test_backup_and_restore_round_trip_on_each_backend(any_db_url: str, tmp_path: Path, capsys) -> None:
    store = _populated(any_db_url)
    before = snapshot(any_db_url)
    out = tmp_path / "project.backup"
    assert main(["backup", str(out), "--db", any_db_url]) == 0
    # the day goes on: more coding after the backup, then something goes wrong
    seg = store.segments()[5]
    store.set_coding(seg.id, store.codebook().ids[2], "anna")
    store.dispose()
    assert snapshot(any_db_url) != before

    assert main(["restore", str(out), "--db", any_db_url]) == 2, "replacing data needs --force"
    assert "--force" in capsys.readouterr().err
    assert main(["restore", str(out), "--db", any_db_url, "--force"]) == 0
    kept = capsys.readouterr().out
    assert "kept as" in kept
    assert snapshot(any_db_url) == before
    reopened = Store(any_db_url)  # still a working project: migrations and coding go on
    reopened.set_coding(seg.id, reopened.codebook().ids[2], "anna")
    reopened.dispose()


def test_backup_refuses_to_overwrite_and_restore_rejects_non_backups(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'work.db'}"
    _populated(url).dispose()
    out = tmp_path / "b.db"
    out.write_text("an older file the user cares about")
    assert main(["backup", str(out), "--db", url]) == 2
    assert "b.db" in capsys.readouterr().err and out.read_text().startswith("an older")
    assert main(["backup", str(out), "--db", url, "--force"]) == 0

    junk = tmp_path / "notes.txt"
    junk.write_text("not a database")
    target = f"sqlite:///{tmp_path / 'fresh.db'}"
    with pytest.raises(FocusqaError, match="notes.txt.*not a SQLite database"):
        restore(junk, target)
    missing = tmp_path / "missing.db"
    with pytest.raises(FocusqaError, match="missing.db"):
        restore(missing, target)
    plain = tmp_path / "plain.db"
    sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(FocusqaError, match="not a focusqa database"):
        restore(plain, target)
    assert not (tmp_path / "fresh.db").exists()
    with pytest.raises(FocusqaError, match="different file"):
        backup(tmp_path / "work.db", url)
