"""The store: idempotent import, codings with audit, undo, version checks, migrations."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from focusqa.errors import ConflictError, FocusqaError
from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.store.db import current_revision, make_engine, migrate
from focusqa.types import CodeSuggestion, DocumentMetadata

TRANSCRIPT = ("Moderator: Hvad med underretningerne?\n\n"
              "Rådgiver 1: De er blevet bedre, men ventetiden i familiegruppen er lang.\n\n"
              "Rådgiver 2: Vi holder netværksmøder med bedsteforældrene.\n\n"
              "Moderator: Og ledelsen?\n\n"
              "Rådgiver 1: Hun refererer til PPR-lederen.")


def _doc(name="fg.txt", round_="2017", district="Øst"):
    return parse_text(TRANSCRIPT, name, DocumentMetadata(round=round_, district=district, group="familiegruppe"))


def test_import_is_idempotent_and_keeps_metadata(store: Store) -> None:
    status, doc_id = store.import_document(_doc(), actor="anna")
    assert status == "imported"
    assert store.import_document(_doc(name="copy.txt")) == ("present", doc_id)
    docs = store.documents()
    assert len(docs) == 1
    d = docs[0]
    assert (d.name, d.round, d.district, d.group, d.segments) == ("fg.txt", "2017", "Øst", "familiegruppe", 5)
    segs = store.segments(doc_id)
    plain = store.document_text(doc_id)
    assert all(plain[s.start:s.end] == s.text for s in segs)
    assert store.audit_log(entity="document")[0].actor == "anna"


def test_codings_are_audited_and_undoable(store: Store) -> None:
    _, doc_id = store.import_document(_doc())
    seg = store.segments(doc_id)[1]
    store.set_coding(seg.id, "samarbejde-familiegruppe", "anna")
    store.set_coding(seg.id, "tidlig-indsats", "anna")
    assert {c.code_id for c in store.codings(coder="anna")} == {"samarbejde-familiegruppe", "tidlig-indsats"}
    log = store.audit_log(actor="anna", entity="coding")
    assert [e.action for e in log] == ["code", "code"]
    assert log[0].after["code_id"] == "tidlig-indsats"
    store.undo_last("anna")
    assert {c.code_id for c in store.codings(coder="anna")} == {"samarbejde-familiegruppe"}


def test_review_of_a_suggestion_and_its_undo(store: Store) -> None:
    _, doc_id = store.import_document(_doc())
    seg = store.segments(doc_id)[2]
    evidence = {"terms": ["netværksmøder"], "question": None, "model": 0.7}
    assert store.replace_suggestions({seg.id: [CodeSuggestion("ressourcepersoner-netvaerk", 5, "x", 0.81, evidence)]}) == 1
    machine = store.codings(coder="focusqa")[0]
    assert (machine.status, machine.origin, machine.score) == ("suggested", "auto", 0.81)
    mine = store.review(seg.id, "ressourcepersoner-netvaerk", "anna", "accepted", expected_version=machine.version)
    assert (mine.status, mine.origin, mine.score, mine.evidence) == ("accepted", "human", 0.81, evidence)
    assert store.codings(coder="focusqa")[0].status == "accepted"
    # a new autocode run keeps the reviewed suggestion and the human coding
    store.replace_suggestions({seg.id: [CodeSuggestion("ressourcepersoner-netvaerk", 5, "x", 0.5, {})]})
    assert store.codings(coder="focusqa")[0].status == "accepted"
    store.undo_last("anna")
    assert store.codings(coder="anna") == []
    assert store.codings(coder="focusqa")[0].status == "suggested"


def test_a_turn_s_codes_saved_at_once_are_one_step_undone_together(store: Store) -> None:
    _, doc_id = store.import_document(_doc())
    seg = store.segments(doc_id)[1]
    store.replace_suggestions({seg.id: [CodeSuggestion("samarbejde-familiegruppe", 4, "x", 0.9, {"terms": ["familiegruppen"]})]})
    old = store.set_coding(seg.id, "organisering", "anna")
    machine = store.codings(coder="focusqa")[0]
    changed = store.save_turn_codes(seg.id, "anna", add=["samarbejde-familiegruppe", "tidlig-indsats"],
                                    remove=["organisering"],
                                    seen={("focusqa", "samarbejde-familiegruppe"): machine.version,
                                          ("anna", "organisering"): old.version})
    assert changed == 4   # the suggestion, two codes added, one removed
    mine = {c.code_id: c for c in store.codings(coder="anna")}
    assert set(mine) == {"samarbejde-familiegruppe", "tidlig-indsats"}
    assert (mine["samarbejde-familiegruppe"].score, mine["samarbejde-familiegruppe"].evidence) == (
        0.9, {"terms": ["familiegruppen"]})                            # accepted as a review accepts it
    assert store.codings(coder="focusqa")[0].status == "accepted"
    assert [e.action for e in store.audit_log(actor="anna", entity="coding")][:1] == ["code-turn"]
    store.undo_last("anna")
    assert [(c.code_id, c.status) for c in store.codings(coder="anna")] == [("organisering", "accepted")]
    assert store.codings(coder="focusqa")[0].status == "suggested"


def test_a_turn_s_codes_saved_over_a_change_made_meanwhile_change_nothing(store: Store) -> None:
    _, doc_id = store.import_document(_doc())
    seg = store.segments(doc_id)[1]
    store.replace_suggestions({seg.id: [CodeSuggestion("samarbejde-familiegruppe", 4, "x", 0.9, {})]})
    seen = store.codings(coder="focusqa")[0].version
    store.review(seg.id, "samarbejde-familiegruppe", "bo", "rejected", expected_version=seen)   # Bo, meanwhile
    with pytest.raises(ConflictError):
        store.save_turn_codes(seg.id, "anna", add=["tidlig-indsats", "samarbejde-familiegruppe"],
                              seen={("focusqa", "samarbejde-familiegruppe"): seen})
    assert store.codings(coder="anna") == []        # not even the first code: all or nothing

def test_version_check_prevents_lost_updates(store: Store) -> None:
    _, doc_id = store.import_document(_doc())
    seg = store.segments(doc_id)[1]
    store.replace_suggestions({seg.id: [CodeSuggestion("samarbejde-familiegruppe", 4, "x", 0.9, {})]})
    seen = store.codings(coder="focusqa")[0].version
    store.review(seg.id, "samarbejde-familiegruppe", "anna", "accepted", expected_version=seen)
    with pytest.raises(ConflictError, match="changed"):
        store.review(seg.id, "samarbejde-familiegruppe", "bo", "rejected", expected_version=seen)
    assert store.codings(coder="focusqa")[0].status == "accepted"
    assert store.codings(coder="bo") == []


def test_partial_coding_and_memo_in_excerpts(store: Store) -> None:
    _, doc_id = store.import_document(_doc())
    seg = store.segments(doc_id)[1]
    cut = seg.text.index(", men")
    store.set_coding(seg.id, "samarbejde-familiegruppe", "anna", start=seg.start, end=seg.start + cut)
    store.add_memo("anna", "Kvaliteten er steget.", segment_id=seg.id)
    with pytest.raises(FocusqaError, match="inside the segment"):
        store.set_coding(seg.id, "tidlig-indsats", "anna", start=seg.start, end=seg.end + 5)
    [excerpt] = store.excerpts(districts=["Øst"])
    assert excerpt.text == "De er blevet bedre"
    assert excerpt.memos == ["Kvaliteten er steget."]
    assert excerpt.segment.round == "2017"


def test_coding_needs_a_coder_and_a_known_code(store: Store) -> None:
    _, doc_id = store.import_document(_doc())
    seg = store.segments(doc_id)[1]
    with pytest.raises(FocusqaError, match="coder name"):
        store.set_coding(seg.id, "tidlig-indsats", " ")
    with pytest.raises(FocusqaError, match="not a code"):
        store.set_coding(seg.id, "no-such-code", "anna")


def test_codebook_edits_are_versioned(store: Store) -> None:
    cb = store.codebook()
    assert len(cb.codes) == 7
    first = store.codebook_versions()[-1][0]
    code = cb.get("organisering")
    code.terms = code.terms + ["ledelsesstruktur"]
    assert store.save_code(code, "anna") == first + 1
    assert "ledelsesstruktur" in store.codebook().get(6).terms
    assert store.sync_codebook(store.codebook()) == first + 1  # unchanged: no new version


def test_migrations_create_every_table_from_empty(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    migrate(engine)
    migrate(engine)  # idempotent
    assert current_revision(engine) == "0008"
    tables = set(inspect(engine).get_table_names())
    assert {"documents", "segments", "codes", "codebook_versions", "codings", "memos", "audit_log",
            "saved_searches", "syntheses", "memo_quotes", "finished_documents", "coders",
            "alembic_version"} <= tables
    if any_db_url.startswith("sqlite"):
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_deleting_a_document_removes_its_codings(store: Store) -> None:
    _, doc_id = store.import_document(_doc())
    seg = store.segments(doc_id)[1]
    store.set_coding(seg.id, "tidlig-indsats", "anna")
    store.delete_document(doc_id, "anna")
    assert store.documents() == [] and store.codings() == []


def test_upgrade_from_the_first_schema_keeps_data_and_fills_word_counts(tmp_path) -> None:
    """A user's database made by the first release survives the upgrade with its data."""
    from alembic import command

    from focusqa.store.db import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO documents (id, name, content_hash, source_format, moderators, attributes, "
                          "plain_text, preamble, imported_at) VALUES (1, 'old.txt', 'h', 'txt', '[]', '{}', "
                          "'Rådgiver: Tre små ord', '', '2016-01-01')"))
        conn.execute(text("INSERT INTO segments (document_id, \"index\", turn, speaker, role, text, start, \"end\") "
                          "VALUES (1, 0, 0, 'Rådgiver', 'participant', 'Tre små ord', 10, 21)"))
    engine.dispose()
    store = Store(url)
    [doc] = store.documents()
    assert (doc.name, doc.segments, doc.words) == ("old.txt", 1, 3)
    store.dispose()


def test_code_guids_are_stored_and_older_databases_get_the_guids_exports_used(db_url: str) -> None:
    from alembic import command

    from focusqa.codebook import Code, default_code_guid
    from focusqa.store.db import alembic_config

    engine = make_engine(db_url)
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
        conn.execute(text("INSERT INTO codes (id, label_da, label_en, question, definition, include, exclude, terms, color, "
                          "position) VALUES ('gammel', 'Gammel kode', '', '', '', '', '', '[]', '#888888', 0)"))
        conn.commit()
    store = Store(db_url)
    assert store.code_guids()["gammel"] == default_code_guid("gammel")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT guid FROM codes WHERE id='gammel'")).scalar() == default_code_guid("gammel")
    store.save_code(Code(id="ny", label_da="Ny"), "anna")
    assert store.code_guids()["ny"] == default_code_guid("ny")
    store.dispose()
    engine.dispose()
