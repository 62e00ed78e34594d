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
