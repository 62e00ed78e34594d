"""Every store feature behaves the same on SQLite and on a real PostgreSQL server.

The `store`/`any_db_url` fixtures run each test on SQLite and, when
FOCUSQA_TEST_POSTGRES_URL is set (as `.ci/run` does), on PostgreSQL too; the
schema comes from the same Alembic migrations on both.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from focusqa.codebook import Code
from focusqa.errors import FocusqaError
from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.store.db import current_revision
from focusqa.types import CodeSuggestion, DocumentMetadata

TEXT = ("I: Hvordan samarbejder I med skolerne?\n"
        "Rådgiver 1: Vi har faste møder med skolelederen – hver anden uge – og det virker.\n"
        "Rådgiver 2: Forældrene bliver inddraget tidligt; “det er deres barn”, siger vi.\n"
        "I: Hvad med sundhedsplejen?\n"
        "Rådgiver 1: Sundhedsplejen er med til netværksmøderne i Ærø og Åbyhøj.\n")


def _doc(store: Store, name: str = "nord.txt", text: str = TEXT, **meta) -> int:
    status, doc_id = store.import_document(parse_text(text, name, DocumentMetadata(**meta)), actor="test")
    assert status == "imported"
    return doc_id


def test_migrations_build_the_models_schema(any_db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from focusqa.store.db import MIGRATIONS_DIR
    from focusqa.store.models import Base

    store = Store(any_db_url)
    Store(any_db_url).dispose()  # opening again is a no-op upgrade
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert current_revision(store.engine) == head
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"migrations and models disagree on {store.engine.dialect.name}: {diff}"
    tables = set(inspect(store.engine).get_table_names())
    assert {"documents", "segments", "codes", "codings", "memos", "audit_log", "codebook_versions"} <= tables
    store.dispose()


def test_documents_segments_and_metadata(store: Store) -> None:
    doc = _doc(store, round="2016", district="Nord", group="rådgivere", date="2016-03-01",
               attributes={"skole": "Åbyhøj"})
    again = store.import_document(parse_text(TEXT, "kopi.txt"), actor="test")
    assert again == ("present", doc)
    info = store.document(doc)
    assert (info.round, info.district, info.group, info.attributes) == ("2016", "Nord", "rådgivere", {"skole": "Åbyhøj"})
    assert isinstance(info.imported_at, datetime) and info.imported_at.tzinfo is not None or \
        store.engine.dialect.name == "sqlite"
    text = store.document_text(doc)
    segs = store.segments(doc)
    assert len(segs) == 5 and all(text[s.start:s.end] == s.text for s in segs)
    assert [s.speaker for s in store.segments(doc, role="moderator")] == ["I", "I"]
    assert "Ærø og Åbyhøj" in store.segments(ids=[segs[4].id])[0].text
    store.update_document_metadata(doc, DocumentMetadata(round="2017", district="Øst"), actor="anna")
    assert (store.document(doc).round, store.document(doc).district) == ("2017", "Øst")
    with pytest.raises(FocusqaError):
        store.document(doc + 999)


def test_codebook_versions_and_code_edits(store: Store) -> None:
    cb = store.codebook()
    first = cb.version
    code = cb.codes[0]
    edited = Code(id=code.id, number=code.number, label_da=code.label_da + " (rettet)", label_en=code.label_en,
                  definition="Ny definition med æøå", terms=["skole", "møde"], color=code.color)
    version = store.save_code(edited, actor="anna")
    assert version == first + 1
    assert store.codebook().get(code.id).definition == "Ny definition med æøå"
    assert [v[0] for v in store.codebook_versions()][-2:] == [first, version]
    assert store.sync_codebook(store.codebook(), actor="anna") == version, "no change, no new version"


def test_codings_review_undo_and_progress(store: Store) -> None:
    doc = _doc(store)
    segs = [s for s in store.segments(doc) if s.role == "participant"]
    codes = store.codebook().ids
    part = store.set_coding(segs[0].id, codes[0], "anna", start=segs[0].start + 3, end=segs[0].start + 20)
    assert (part.start, part.end) == (segs[0].start + 3, segs[0].start + 20)
    with pytest.raises(FocusqaError):
        store.set_coding(segs[0].id, codes[0], "anna", start=segs[0].end, end=segs[0].end + 5)
    written = store.replace_suggestions({s.id: [CodeSuggestion(codes[1], 2, "x", 0.77, {"terms": ["skole"]})]
                                         for s in segs})
    assert written == len(segs)
    machine = store.codings(origin="auto", status="suggested")
    assert len(machine) == len(segs) and machine[0].evidence == {"terms": ["skole"]}
    store.review(segs[1].id, codes[1], "bo", "accepted", expected_version=machine[1].version)
    store.review(segs[2].id, codes[1], "bo", "rejected")
    assert store.coders() == ["anna", "bo"]
    assert {c.status for c in store.codings(coder="bo")} == {"accepted", "rejected"}
    # a new autocode run keeps reviewed suggestions and human codings
    store.replace_suggestions({s.id: [CodeSuggestion(codes[1], 2, "x", 0.5, {})] for s in segs})
    assert len(store.codings(coder="bo")) == 2 and len(store.codings(coder="anna")) == 1
    progress = store.progress()[doc]
    # Turn 1 is coded; turn 0 has Anna's code but the machine's suggestion beside it still waits.
    assert progress["accepted"] == 1 and progress["suggested"] >= 1
    assert sum(progress.values()) == len(store.segments(doc, role="participant"))
    undone = store.undo_last("bo")
    assert undone is not None and len(store.codings(coder="bo")) == 1
    coding = store.codings(coder="anna")[0]
    store.remove_coding(coding.id, "anna", expected_version=coding.version)
    assert store.codings(coder="anna") == []
    assert {e.action for e in store.audit_log()} >= {"import", "code", "review", "autocode", "undo", "uncode"}


def test_memos_excerpts_and_filters(store: Store) -> None:
    nord = _doc(store, "nord.txt", round="2016", district="Nord")
    oest = _doc(store, "oest.txt", TEXT.replace("skolerne", "børnehaverne"), round="2017", district="Øst")
    code = store.codebook().ids[0]
    for doc in (nord, oest):
        seg = [s for s in store.segments(doc) if s.role == "participant"][0]
        store.set_coding(seg.id, code, "anna")
    memo = store.add_memo("anna", "Godt citat – brug det", segment_id=seg.id)
    memo = store.update_memo(memo.id, "Godt citat – brug det i notatet", "anna", expected_version=memo.version)
    assert [e.segment.district for e in store.excerpts(codes=[code])] == ["Nord", "Øst"]
    only = store.excerpts(districts=["Øst"], rounds=["2017"])
    assert len(only) == 1 and only[0].memos == ["Godt citat – brug det i notatet"]
    assert store.excerpts(coders=["nobody"]) == []
    assert len(store.memos(document_id=oest)) == 1
    store.delete_memo(memo.id, "anna")
    assert store.memos() == []


def test_reference_import_and_delete_cascades(store: Store, tmp_path: Path) -> None:
    doc = _doc(store, "gruppe.txt")
    seg = store.segments(doc)[1]
    ref = tmp_path / "coder_a.jsonl"
    code = store.codebook().ids[0]
    ref.write_text(f'{{"document": "gruppe.txt", "segment": 1, "start": {seg.start}, "end": {seg.end}, '
                   f'"coder": "coder_a", "codes": ["{code}"]}}\n'
                   '{"document": "ikke-importeret.txt", "segment": 0, "start": 0, "end": 1, "coder": "coder_a", '
                   '"codes": []}\n', encoding="utf-8")
    assert store.import_reference(ref) == (1, 1)
    store.add_memo("anna", "notat", segment_id=seg.id)
    store.delete_document(doc, "anna")
    assert store.documents() == [] and store.segments() == []
    assert store.codings() == [] and store.memos() == [], "codings and memos go with their document"


def test_concurrent_imports_of_the_same_file_store_it_once(any_db_url: str) -> None:
    stores = [Store(any_db_url) for _ in range(3)]
    parsed = parse_text(TEXT, "samme.txt")
    barrier = threading.Barrier(len(stores))
    results = []

    def run(s: Store) -> None:
        barrier.wait()
        results.append(s.import_document(parsed, actor="test"))

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r[0] for r in results).count("imported") == 1
    assert len({r[1] for r in results}) == 1
    assert len(stores[0].documents()) == 1
    for s in stores:
        s.dispose()


def test_long_values_from_user_input_are_stored_or_refused_clearly(store: Store) -> None:
    """Text the user types (coder names, metadata) must not reach the database as a crash."""
    doc = _doc(store, "lang.txt", round="2016 – første runde, forår, med nye deltagere fra alle distrikter",
               district="Distrikt " + "Nord" * 40, group="g" * 200)
    stored = store.document(doc)
    assert stored.round.startswith("2016") and stored.district.startswith("Distrikt")
    seg = store.segments(doc)[1]
    long_name = "Anne-Marie " + "Kristine " * 20
    try:
        store.set_coding(seg.id, store.codebook().ids[0], long_name)
    except FocusqaError:
        pass  # a clear message is fine; a database error is not
    assert len(store.codings(segment_ids=[seg.id])) <= 1


def test_url_from_the_environment_opens_the_same_database(any_db_url: str, monkeypatch) -> None:
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", any_db_url)
    first = Store()
    _doc(first, "miljø.txt")
    first.dispose()
    engine = create_engine(any_db_url)
    assert inspect(engine).has_table("documents")
    engine.dispose()
    second = Store()
    assert [d.name for d in second.documents()] == ["miljø.txt"]
    second.dispose()
