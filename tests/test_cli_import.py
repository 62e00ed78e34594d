"""`focusqa import / documents / segments / codebook` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import docx
import pytest
from sqlalchemy import MetaData, create_engine, select

from focusqa.cli import main


def dump_database(url: str) -> dict:
    """Every row of every table, to prove a failed import changed nothing."""
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        out = {t.name: sorted(map(repr, conn.execute(select(t)).all())) for t in meta.sorted_tables}
    engine.dispose()
    return out


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "fg"
    d.mkdir()
    (d / "nord.txt").write_text("Moderator: Hvad med den tidlige indsats?\n\nRådgiver 1: Forældrene "
                                "kommer tidligere nu.\n\nRådgiver 2: Ja.\n", encoding="utf-8")
    (d / "oest.txt").write_bytes("I: Og samarbejdet?\n\nTeamleder: Underretningerne er blevet bedre "
                                 "på Løvvangen.\n".encode("cp1252"))
    (d / "manifest.csv").write_text("file,round,district,group,date\nnord.txt,2016,Nord,familiegruppe,2016-03-01\n"
                                    "oest.txt,2016,Øst,familiegruppe,2016-03-02\n", encoding="utf-8")
    return d


def run(capsys, *args) -> tuple[int, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_import_folder_twice_and_list(folder: Path, db_url: str, capsys) -> None:
    code, out = run(capsys, "import", str(folder), "--db", db_url)
    assert code == 0 and out.count("imported ") == 2
    code, out = run(capsys, "import", str(folder), "--db", db_url)
    assert code == 0 and out.count("already present") == 2
    code, out = run(capsys, "documents", "--db", db_url, "--format", "json")
    docs = json.loads(out)
    assert [(d["name"], d["round"], d["district"], d["group"], d["segments"]) for d in docs] == [
        ("nord.txt", "2016", "Nord", "familiegruppe", 3), ("oest.txt", "2016", "Øst", "familiegruppe", 2)]
    assert set(docs[0]) >= {"id", "name", "round", "district", "group", "segments", "words"}
    assert docs[1]["words"] == 8


def test_flags_override_the_manifest(folder: Path, db_url: str, capsys) -> None:
    run(capsys, "import", str(folder / "nord.txt"), "--round", "2017", "--district", "Vest",
        "--group", "projektgruppe", "--db", db_url)
    _, out = run(capsys, "documents", "--db", db_url, "--format", "json")
    [doc] = json.loads(out)
    assert (doc["round"], doc["district"], doc["group"]) == ("2017", "Vest", "projektgruppe")


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "junk.txt").write_bytes(bytes(range(256)) * 8)
    (bad / "corrupt.docx").write_bytes(b"PK\x03\x04garbage")
    (bad / "locked.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    (bad / "latin.txt").write_bytes(b"Moderator: \x81\x8d\x8f")
    textless = bad / "textless.docx"
    docx.Document().save(textless)
    return {p.name: p for p in bad.iterdir()}


@pytest.mark.parametrize("name, message", [
    ("empty.txt", "is empty"), ("junk.txt", "binary"), ("corrupt.docx", "damaged"),
    ("locked.docx", "password-protected"), ("latin.txt", "neither UTF-8"), ("textless.docx", "no text"),
    ("missing.txt", "file not found"),
])
def test_bad_input_gets_a_message_and_changes_nothing(folder, tmp_path, db_url, capsys, name, message) -> None:
    run(capsys, "import", str(folder), "--db", db_url)
    before = dump_database(db_url)
    bad = _bad_inputs(tmp_path).get(name, tmp_path / name)
    good = folder / "extra.txt"
    good.write_text("I: Sidste spørgsmål?\n\nRådgiver: Nej tak.\n", encoding="utf-8")
    code, out = run(capsys, "import", str(bad), "--db", db_url)
    assert code == 1
    failed = [line for line in out.splitlines() if line.startswith("failed")]
    assert len(failed) == 1 and name in failed[0] and message in failed[0]
    assert dump_database(db_url) == before
    # the other files of a batch still import
    code, out = run(capsys, "import", str(bad), str(good), "--db", db_url)
    assert code == 1 and "imported   extra.txt" in out


def test_manifest_row_naming_a_missing_file(folder: Path, db_url: str, capsys) -> None:
    with (folder / "manifest.csv").open("a", encoding="utf-8") as f:
        f.write("ghost.docx,2016,Vest,familiegruppe,\n")
    code, out = run(capsys, "import", str(folder), "--db", db_url)
    assert code == 1
    assert "ghost.docx" in out and "does not exist" in out
    assert out.count("imported ") == 2


def test_documents_edit_corrects_metadata_and_delete_asks_first(folder: Path, db_url: str, capsys) -> None:
    from focusqa.store import Store

    run(capsys, "import", str(folder), "--db", db_url)
    code, out = run(capsys, "documents", "--db", db_url, "edit", "nord.txt", "--round", "2017", "--district", "")
    assert code == 0 and "round 2017, district -" in out
    code, out = run(capsys, "documents", "edit", "2", "--group", "projektgruppe", "--db", db_url)
    assert code == 0
    store = Store(db_url)
    docs = {d.name: d for d in store.documents()}
    assert (docs["nord.txt"].round, docs["nord.txt"].district, docs["nord.txt"].date) == ("2017", None, "2016-03-01")
    assert docs["oest.txt"].group == "projektgruppe" and docs["oest.txt"].round == "2016"
    store.set_coding(store.segments(docs["nord.txt"].id)[1].id, "tidlig-indsats", "anna")
    before = dump_database(db_url)
    code, out = run(capsys, "documents", "--db", db_url, "delete", "nord.txt")
    assert code == 2 and "would delete nord.txt (3 turns, 1 confirmed codings and memos by anna)" in out
    assert dump_database(db_url) == before
    code, out = run(capsys, "documents", "--db", db_url, "edit", "ingen.txt", "--round", "2017")
    assert code == 2 and "no imported interview has the id or file name 'ingen.txt'" in out
    assert dump_database(db_url) == before
    code, out = run(capsys, "documents", "--db", db_url, "delete", "nord.txt", "--yes")
    assert code == 0 and [d.name for d in store.documents()] == ["oest.txt"]
    assert store.codings(coder="anna") == []
    store.dispose()


def test_segments_command_needs_no_database(folder: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    code, out = run(capsys, "segments", str(folder / "oest.txt"))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["speaker"] for r in rows] == ["I", "Teamleder"]
    assert rows[1]["text"] == "Underretningerne er blevet bedre på Løvvangen."
    assert set(rows[0]) == {"document", "segment", "speaker", "role", "start", "end", "timestamp", "text"}
    assert rows[0]["role"] == "moderator"
    assert not (tmp_path / "never.db").exists()


def test_codebook_commands(tmp_path: Path, capsys) -> None:
    code, out = run(capsys, "codebook", "validate")
    assert code == 0 and "OK (7 codes)" in out
    code, out = run(capsys, "codebook", "show")
    assert "Tidlig indsats" in out and "Early intervention" in out
    broken = tmp_path / "broken.yaml"
    broken.write_text("codes:\n  - id: x\n    number: one\n    label_da: X\n", encoding="utf-8")
    code, out = run(capsys, "codebook", "validate", str(broken))
    assert code == 2 and "broken.yaml, line 3" in out and "number must be" in out


def test_console_script_help_for_every_command() -> None:
    exe = Path(sys.executable).with_name("focusqa")
    for command in ["import", "documents", "segments", "codebook", "serve"]:
        result = subprocess.run([str(exe), command, "--help"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and "usage: focusqa" in result.stdout


def test_python_dash_m_focusqa_is_the_focusqa_command() -> None:
    """``python -m focusqa`` works where the console script is not on the PATH."""
    exe = Path(sys.executable).with_name("focusqa")
    script = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    module = subprocess.run([sys.executable, "-m", "focusqa", "--version"], capture_output=True, text=True,
                            timeout=60)
    assert module.returncode == 0 and module.stdout.strip() and module.stdout == script.stdout
