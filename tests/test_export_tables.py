"""xlsx and csv exports, read back with pandas."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from focusqa.cli import main
from focusqa.export.tables import BASE_COLUMNS, DANISH_COLUMNS, csv_bytes, export_csv, export_xlsx, xlsx_bytes
from test_themes_data import F, N, O, PRIVATE_VALUES, T, USER_NAMES, build_project, count


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('tables') / 'p.db'}"
    store = build_project(url)
    yield url, store
    store.dispose()


def test_export_xlsx_one_row_per_excerpt_and_code_with_every_attribute(project, tmp_path):
    _, store = project
    out = tmp_path / "uddrag.xlsx"
    rows = export_xlsx(store, out, names=USER_NAMES)
    sheets = pd.read_excel(out, sheet_name=None)
    assert list(sheets) == ["Uddrag", "Matrix"]
    assert list(sheets["Uddrag"].columns) == [DANISH_COLUMNS[c] for c in BASE_COLUMNS]
    excerpts = sheets["Uddrag"].rename(columns={da: en for en, da in DANISH_COLUMNS.items()})
    assert rows == len(excerpts) == count(store)
    assert not excerpts.duplicated(["segment_id", "code_id"]).any()
    bo = excerpts[excerpts["coders"] == "Anna, Bo"]
    assert len(bo) == 1 and bo.iloc[0]["code_id"] == T and bo.iloc[0]["document"] == "2016_nord.txt"
    confirmed = excerpts[excerpts["status"] == "bekræftet forslag, sikkerhed 0,91"]
    assert len(confirmed) == 1 and confirmed.iloc[0]["score"] == pytest.approx(0.91)
    partial = excerpts[(excerpts["code_id"] == N) & excerpts["text"].str.contains("naboen")].iloc[0]
    assert partial["coded_end"] - partial["coded_start"] == len(partial["text"])
    assert set(excerpts["row"]) == {"Nord", "Øst", "Projektgruppe"}
    assert excerpts["memos"].fillna("").str.contains("Tydelig forskel").sum() == 1
    assert excerpts[excerpts["group"] == "projektgruppe"]["district"].isna().all()


def test_export_xlsx_matrix_sheet_per_round(project, tmp_path):
    _, store = project
    out = tmp_path / "uddrag.xlsx"
    export_xlsx(store, out, language="en")
    matrix = pd.read_excel(out, sheet_name="Matrix")  # English headers; "Nord" etc. are data
    assert list(matrix.columns) == ["round", "code_id", "code", "Nord", "Øst", "Projektgruppe", "total"]
    assert len(matrix) == 2 * 7
    line = matrix[(matrix["round"] == 2016) & (matrix["code_id"] == T)].iloc[0]
    assert (line["Nord"], line["Projektgruppe"], line["total"]) == (2, 2, count(store, rounds=["2016"], codes=[T]))
    assert int(matrix["total"].sum()) == count(store)


def test_export_tables_mask_by_default(project):
    _, store = project
    masked = pd.read_excel(io.BytesIO(xlsx_bytes(store, names=USER_NAMES)))
    flat = masked.astype(str).to_string()
    assert not any(value in flat for value in PRIVATE_VALUES + ["Mette", "Karen"])
    assert "[CPR-nr.]" in flat and "Deltager" in set(masked["taler"])
    raw = pd.read_csv(io.BytesIO(csv_bytes(store, masking=False, language="en")))
    flat = raw.astype(str).to_string()
    assert all(value in flat for value in PRIVATE_VALUES)


def test_export_csv_has_the_first_sheets_rows_and_reads_danish_letters(project, tmp_path):
    _, store = project
    out = tmp_path / "uddrag.csv"
    n = export_csv(store, out, rounds=["2017"], codes=[O], statuses="all")
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel opens æøå correctly
    header = out.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("dokument;runde;distrikt;gruppe;række;")  # Danish Excel splits on ;
    frame = pd.read_csv(out, encoding="utf-8-sig", sep=";", decimal=",")
    assert n == len(frame) == count(store, rounds=["2017"], codes=[O], statuses=("accepted", "suggested"))
    assert set(frame["status"]) == {"bekræftet", "bekræftet forslag, sikkerhed 0,91", "forslag, sikkerhed 0,82"}
    assert sorted(frame["bekræftet"]) == ["ja", "ja", "ja", "nej"]     # Danish words, not True/False
    assert set(frame["rolle"]) == {"deltager"}
    english = pd.read_csv(io.BytesIO(csv_bytes(store, rounds=["2017"], codes=[O], statuses="all", language="en")))
    assert list(english["confirmed"]).count(False) == 1 and set(english["role"]) == {"participant"}
    assert sorted(frame["score"].dropna()) == pytest.approx([0.82, 0.91])
    assert ";0,91;" in out.read_text(encoding="utf-8-sig")


def test_export_headers_follow_the_language_and_the_csv_dialect_can_be_chosen(project, tmp_path):
    _, store = project
    danish = pd.read_excel(io.BytesIO(xlsx_bytes(store)), sheet_name=None)
    assert list(danish["Uddrag"].columns) == [DANISH_COLUMNS[c] for c in BASE_COLUMNS]
    assert list(danish["Matrix"].columns) == ["runde", "kode_id", "kode", "Nord", "Øst", "Projektgruppe", "i alt"]
    english = pd.read_csv(io.BytesIO(csv_bytes(store, language="en")))
    assert list(english.columns) == BASE_COLUMNS and 0.91 in set(english["score"])
    comma = pd.read_csv(io.BytesIO(csv_bytes(store, excel_dialect="en")))
    assert list(comma.columns) == [DANISH_COLUMNS[c] for c in BASE_COLUMNS]


def test_export_tables_filters_and_command_line(project, tmp_path, capsys):
    url, store = project
    out = tmp_path / "f.csv"
    assert main(["export", "csv", str(out), "--db", url, "--district", "Øst", "--code", "4",
                 "--round", "2016,2017"]) == 0
    assert "excerpt rows, masked" in capsys.readouterr().out
    frame = pd.read_csv(out, sep=";", decimal=",")
    assert len(frame) == count(store, districts=["Øst"], codes=[F]) == 4
    assert set(frame["distrikt"]) == {"Øst"} and set(frame["kode_id"]) == {F}
    xlsx = tmp_path / "f.xlsx"
    assert main(["export", "xlsx", str(xlsx), "--db", url, "--coder", "Bo", "--no-masking", "--language", "en"]) == 0
    assert list(pd.read_excel(xlsx).columns)[:2] == ["document", "round"] and len(pd.read_excel(xlsx)) == 1


def test_export_tables_on_every_backend(any_db_url):
    store = build_project(any_db_url)
    try:
        frame = pd.read_excel(io.BytesIO(xlsx_bytes(store)), sheet_name="Matrix")
        assert int(frame["i alt"].sum()) == count(store)
        assert set(frame.columns) >= {"Nord", "Øst", "Projektgruppe"}
    finally:
        store.dispose()
