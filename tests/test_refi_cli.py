"""The command line for agreement, reconciliation and REFI-QDA export/import."""

from __future__ import annotations

import json
import zipfile

from focusqa.cli import main
from focusqa.ingest import parse_text
from focusqa.store import Store

TEXT = """Moderator: Hvordan går det?

Rådgiver 1: Vi taler med forældrene før der er en sag.

Rådgiver 2: Jeg koordinerer med PPR.

Lærer 1: Vi ringer til rådgiveren.
"""


def _coded_db(db_url: str) -> Store:
    store = Store(db_url)
    _status, doc_id = store.import_document(parse_text(TEXT, "g.txt"))
    seg = [s.id for s in store.segments(doc_id)]
    store.set_coding(seg[1], "tidlig-indsats", "Anna")
    store.set_coding(seg[2], "tvaerfaglig-koordinering", "Anna")
    store.set_coding(seg[1], "tidlig-indsats", "Bo")
    store.set_coding(seg[3], "tvaerfaglig-koordinering", "Bo")
    for coder in ("Anna", "Bo"):
        store.set_finished(doc_id, coder)   # both coded the whole interview
    return store


def test_agreement_command_table_and_json(db_url, capsys):
    _coded_db(db_url).dispose()
    assert main(["agreement", "--db", db_url, "--bootstrap", "200", "--disagreements"]) == 0
    out = capsys.readouterr().out
    assert "Coders: Anna, Bo; 1 documents, 3 segments coded by at least one of them (1 uncoded" in out
    assert "2 disagreements between Anna and Bo" in out and "g.txt  #2 (tur 3)  tvaerfaglig-koordinering: Anna" in out
    assert main(["agreement", "--db", db_url, "--format", "json", "--codes", "1", "--bootstrap", "0"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["code_id"] for c in data["per_code"]] == ["tidlig-indsats"]
    # one segment carries the code and both coders applied it: agreement, but kappa is undefined
    assert data["segments"] == 1 and data["per_code"][0]["percent"] == 1.0
    assert data["per_code"][0]["kappa"] is None
    assert main(["agreement", "--db", db_url, "--format", "json", "--codes", "1", "--all-segments",
                 "--bootstrap", "0"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["units"], data["segments"], data["uncoded_segments"]) == ("all", 4, 0)
    assert data["per_code"][0]["kappa"] == 1.0


def test_agreement_command_explains_missing_second_coder(db_url, capsys):
    Store(db_url).dispose()
    assert main(["agreement", "--db", db_url]) == 2
    assert "at least two coders" in capsys.readouterr().err


def test_reconcile_command(db_url, capsys):
    store = _coded_db(db_url)
    assert main(["reconcile", "g.txt", "2", "2", "--no", "--by", "Lise", "--db", db_url]) == 2
    assert "only a reviewer can reconcile" in capsys.readouterr().err
    assert store.codings(coder="final") == []
    assert main(["coders", "add", "Lise", "--role", "reviewer", "--db", db_url]) == 0
    assert main(["reconcile", "g.txt", "2", "2", "--no", "--by", "Lise", "--db", db_url]) == 0
    assert "does not apply (decided by Lise" in capsys.readouterr().out
    (final,) = store.codings(coder="final")
    assert (final.code_id, final.status) == ("tvaerfaglig-koordinering", "rejected")
    assert main(["reconcile", "g.txt", "9", "2", "--yes", "--by", "Lise", "--db", db_url]) == 2
    assert "has no segment 9" in capsys.readouterr().err


def test_export_and_import_commands(db_url, tmp_path, capsys):
    _coded_db(db_url).dispose()
    qdpx, qdc = tmp_path / "projekt.qdpx", tmp_path / "kodebog.qdc"
    assert main(["export", "qdpx", str(qdpx), "--db", db_url]) == 0
    assert main(["export", "qdc", str(qdc), "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "1 documents, 7 codes, 4 codings by 2 coders" in out and "7 codes (REFI-QDA codebook)" in out
    assert zipfile.is_zipfile(qdpx)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert main(["import", str(qdpx), "--db", other]) == 0
    assert "1 documents imported, 4 codings by 2 coders" in capsys.readouterr().out
    assert main(["codebook", "import", str(qdc), "--db", other]) == 0
    assert "0 codes to add, 0 to change, 7 unchanged" in capsys.readouterr().out
    broken = tmp_path / "broken.qdpx"
    broken.write_bytes(b"PK not really")
    assert main(["import", str(broken), "--db", other]) == 1
    assert "broken.qdpx: is not a REFI-QDA project" in capsys.readouterr().out
