"""Importing another program's codebook: nothing destroyed, nothing doubled, a preview first."""

from __future__ import annotations

from pathlib import Path

import pytest

from focusqa.cli import main
from focusqa.codebook import Code, load_codebook
from focusqa.errors import CodebookError
from focusqa.export.codebook_files import preview_codebook_import, read_taguette_csv, taguette_csv
from focusqa.export.refi import write_qdc
from focusqa.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "refi"
TAGUETTE = FIXTURES / "taguette_codebook.qdc"


def _fields(store: Store) -> dict[str, tuple]:
    return {c.id: (c.label_da, c.number, c.definition, c.question, tuple(c.terms), c.color, c.parent)
            for c in store.codebook().codes}


def test_a_taguette_codebook_leaves_the_guide_intact_and_adds_only_what_is_new(store):
    guide = _fields(store)
    versions = len(store.codebook_versions())
    merge = preview_codebook_import(store, TAGUETTE)
    # the preview writes nothing
    assert len(store.codebook_versions()) == versions and _fields(store) == guide
    assert (merge.count("added"), merge.count("changed"), merge.count("unchanged")) == (2, 0, 7)
    assert sorted(c.code.label_da for c in merge.changes if c.kind == "added") == ["Forældresamarbejde",
                                                                                 "interesting"]
    lines = merge.lines()
    assert lines[0].startswith("taguette_codebook.qdc: 2 codes to add, 0 to change, 7 unchanged")
    assert "  add     interesting (id interesting)" in lines
    store.apply_codebook_merge(merge, "Lise")
    after = _fields(store)
    assert {k: after[k] for k in guide} == guide                    # number, definition, terms, colour kept
    labels = [c.label_da.casefold() for c in store.codebook().codes]
    assert len(labels) == len(set(labels)) == 9
    # importing it again finds everything (the new codes now by their GUID)
    again = preview_codebook_import(store, TAGUETTE)
    assert not again.writes and again.count("unchanged") == 9
    assert {c.matched_by for c in again.changes if c.code.label_da == "interesting"} == {"guid"}


def test_leaving_a_code_out_is_said(store):
    merge = preview_codebook_import(store, TAGUETTE, leave_out=frozenset({"interesting"}))
    assert merge.count("added") == 1
    assert "  not taken: 1 codes you left out (interesting)" in merge.lines()


def test_a_filled_field_wins_only_over_an_empty_one_and_lists_are_united(store, tmp_path):
    theirs = load_codebook()
    early = theirs.get("tidlig-indsats")
    early.definition, early.terms, early.question = "", ["hjemmebesøg"], "Ny formulering af spørgsmålet?"
    early.color = "#888888"                            # a file without colours reads as grey: not taken
    path = write_qdc(theirs, tmp_path / "fra_kollega.qdc")
    ours = store.codebook().get("tidlig-indsats")
    merge = preview_codebook_import(store, path)
    (change,) = [c for c in merge.changes if c.kind == "changed"]
    assert change.matched_by == "guid" and sorted(change.fields) == ["question", "terms"]
    store.apply_codebook_merge(merge, "Lise")
    now = store.codebook().get("tidlig-indsats")
    assert now.definition == ours.definition and now.color == ours.color
    assert now.terms == [*ours.terms, "hjemmebesøg"] and now.question == "Ny formulering af spørgsmålet?"


def test_a_rename_or_number_that_would_clash_is_not_taken(store):
    from focusqa.codebook_merge import IncomingCode, plan_merge

    guids = store.code_guids()
    renamed = Code(id="x", label_da="Organisering", number=6)          # the label and number of another code
    merge = plan_merge(store.codebook(), [IncomingCode("x", renamed, guids["tidlig-indsats"])], guids=guids,
                       source="x.qdc")
    assert not merge.writes
    assert any("renames to a label another code has" in line for line in merge.not_taken)
    assert any("numbers another code already has" in line for line in merge.not_taken)


def test_code_sets_in_a_codebook_are_reported(store):
    merge = preview_codebook_import(store, FIXTURES / "minimal.qdc")
    assert any(line.startswith("1 code sets (") for line in merge.not_taken)


def test_taguette_csv_both_ways(store, tmp_path):
    data = taguette_csv(store.codebook())
    lines = data.decode("utf-8").splitlines()
    assert lines[0] == "tag,description" and lines[1].startswith("Tidlig indsats,")
    path = tmp_path / "taguette.csv"
    path.write_bytes(data)
    incoming = read_taguette_csv(path)
    assert [i.code.label_da for i in incoming] == [c.label_da for c in store.codebook().codes]
    assert not preview_codebook_import(store, path).writes
    bad = tmp_path / "bad.csv"
    bad.write_text("navn;beskrivelse\nx;y\n", encoding="utf-8")
    with pytest.raises(CodebookError, match="no 'tag'") as info:
        read_taguette_csv(bad)
    assert "bad.csv" in str(info.value)


def test_cli_previews_and_writes_only_with_yes(db_url, capsys):
    Store(db_url).dispose()
    assert main(["codebook", "import", str(TAGUETTE), "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "2 codes to add, 0 to change, 7 unchanged" in out and "run again with --yes" in out
    assert len(Store(db_url).codebook().codes) == 7
    assert main(["codebook", "import", str(TAGUETTE), "--db", db_url, "--yes", "--leave-out", "interesting"]) == 0
    assert "written as codebook version 2" in capsys.readouterr().out
    store = Store(db_url)
    assert [c.label_da for c in store.codebook().codes][-1] == "Forældresamarbejde"
    assert store.audit_log(limit=1)[0].after["file"] == "taguette_codebook.qdc"
    store.dispose()
