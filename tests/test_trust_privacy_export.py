"""End to end: what leaves focusqa in an export is masked (names, CPR, phone, e-mail).

A transcript full of personal data is imported and coded, then exported with the
real commands to Word, Excel and csv; the files are read back cell by cell.
"""

from __future__ import annotations

import csv
from pathlib import Path

import docx
import openpyxl
import pytest

from focusqa.cli import main
from focusqa.config import data_dir
from focusqa.store import Store

TRANSCRIPT = """I: Fortæl om en sag, hvor samarbejdet med skolen lykkedes.
Mette Holm: Jeg havde en dreng med CPR 010203-1234, og skolen ringede fra 20 30 40 50 hver uge.
Rådgiver 2: Ja, og Mettes kontakt til Jens Petersen på skolen betød meget.
Mette Holm: Man kan skrive til mig på mette.holm@kommune.dk eller ringe på +45 87654321.
I: Hvad med sagsnummeret?
Rådgiver 2: Sagsnummer 320199-1234 står i journalen, og familien kom til netværksmøde.
"""
SECRETS = ["Mette", "Holm", "010203-1234", "20 30 40 50", "mette.holm@kommune.dk", "87654321",
           "Jens", "Petersen"]


def _docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]

    def cells(tables):
        for table in tables:
            for row in table.rows:
                for cell in row.cells:
                    parts.append(cell.text)
                    cells(cell.tables)

    cells(document.tables)
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)


def _xlsx_text(path: Path) -> str:
    book = openpyxl.load_workbook(path, read_only=True)
    return "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for v in row if v is not None)


def _csv_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8-sig")
    delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    return "\n".join("\t".join(row) for row in csv.reader(text.splitlines(), delimiter=delimiter))


READERS = {"docx": _docx_text, "xlsx": _xlsx_text, "csv": _csv_text}


@pytest.fixture
def coded_project(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'privat.db'}"
    source = tmp_path / "2017_nord_familiegruppe.txt"
    source.write_text(TRANSCRIPT, encoding="utf-8")
    assert main(["import", str(source), "--round", "2017", "--district", "Nord", "--group", "familiegruppe",
                 "--db", url]) == 0
    store = Store(url)
    code = store.codebook().ids[0]
    for seg in store.segments(role="participant"):
        store.set_coding(seg.id, code, "anna")
    store.dispose()
    data_dir().mkdir(parents=True, exist_ok=True)
    (data_dir() / "navne.txt").write_text("# navne fra interviewene\nJens Petersen\n", encoding="utf-8")
    return url


@pytest.mark.parametrize("fmt", ["docx", "xlsx", "csv"])
def test_exports_mask_personal_data_by_default(coded_project: str, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"notat.{fmt}"
    # The memo draft quotes a few excerpts; its appendix holds them all, so every one is checked.
    extra = ["--appendix"] if fmt == "docx" else []
    assert main(["export", fmt, str(out), "--db", coded_project, *extra]) == 0
    content = READERS[fmt](out)
    assert "netværksmøde" in content, "the excerpts are in the export"
    leaked = [s for s in SECRETS if s in content]
    assert leaked == [], f"{fmt} export shows {leaked}"
    for placeholder in ("[navn]", "[CPR-nr.]", "[telefon]", "[e-mail]"):
        assert placeholder in content
    assert "320199-1234" in content, "not a date, so not a CPR number: a case number stays readable"


def test_no_masking_is_explicit_and_shows_the_data(coded_project: str, tmp_path: Path) -> None:
    out = tmp_path / "internt.xlsx"
    assert main(["export", "xlsx", str(out), "--no-masking", "--db", coded_project]) == 0
    content = _xlsx_text(out)
    assert "010203-1234" in content and "mette.holm@kommune.dk" in content and "Jens Petersen" in content


MEMO = "Ring til Jens Petersen på 20 30 40 50 om Mettes sag (cpr 010203-1234)."


def _plant_memo_and_attributes(url: str) -> None:
    """A memo and document attributes full of personal data, as an evaluator might write them."""
    from focusqa.store.models import Document
    from focusqa.types import DocumentMetadata

    store = Store(url)
    doc = store.documents()[0]
    store.update_document_metadata(doc.id, DocumentMetadata(
        round=doc.round, district=doc.district, group=doc.group,
        attributes={"kontakt": "Jens Petersen, mette.holm@kommune.dk"}), "anna")
    with store.session() as s:        # as an import's front matter or manifest would set it
        s.get(Document, doc.id).moderators = ["Lise Bech"]
    seg = store.segments(role="participant")[0]
    store.add_memo("anna", MEMO, segment_id=seg.id)
    store.add_memo("anna", "Projektet: Mette Holm ringer fra 87654321.")
    store.dispose()


def _qdpx_files(path: Path) -> dict[str, str]:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name).decode("utf-8") for name in zf.namelist()}


def test_qdpx_export_is_masked_by_default_in_every_file(coded_project: str, tmp_path: Path, capsys) -> None:
    import xml.etree.ElementTree as ET

    _plant_memo_and_attributes(coded_project)
    out = tmp_path / "projekt.qdpx"
    assert main(["export", "qdpx", str(out), "--db", coded_project]) == 0
    assert "masked" in capsys.readouterr().out
    files = _qdpx_files(out)
    assert len(files) >= 4, "project.qde, the transcript and the memos"
    leaked = {name: [s for s in SECRETS + ["Lise Bech", "Bech"] if s in content] for name, content in files.items()}
    assert {name: found for name, found in leaked.items() if found} == {}
    everything = "\n".join(files.values())
    for placeholder in ("[navn]", "[CPR-nr.]", "[telefon]", "[e-mail]", "Deltager: "):
        assert placeholder in everything
    assert "320199-1234" in everything and "Rådgiver 2: " in everything
    # the codings still cover the words that were coded, now masked
    root = ET.fromstring(files["project.qde"])
    source = next(root.iter("{urn:QDA-XML:project:1.0}TextSource"))
    text = files["sources/" + source.get("plainTextPath").removeprefix("internal://")]
    spans = [text[int(s.get("startPosition")):int(s.get("endPosition"))]
             for s in source.iter("{urn:QDA-XML:project:1.0}PlainTextSelection")]
    assert "Sagsnummer 320199-1234 står i journalen, og familien kom til netværksmøde." in spans
    assert "Jeg havde en dreng med CPR [CPR-nr.], og skolen ringede fra [telefon] hver uge." in spans


def test_qdpx_without_masking_is_explicit_and_complete(coded_project: str, tmp_path: Path, capsys) -> None:
    _plant_memo_and_attributes(coded_project)
    out = tmp_path / "internt.qdpx"
    assert main(["export", "qdpx", str(out), "--no-mask", "--db", coded_project]) == 0
    assert "NOT masked" in capsys.readouterr().out
    everything = "\n".join(_qdpx_files(out).values())
    assert [s for s in SECRETS + ["Lise Bech", MEMO] if s not in everything] == []
