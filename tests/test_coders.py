"""Coders are users of the project: the Store refuses a coder's change to another's work.

Issue 18, item 7 ("anyone is anyone"): each test runs on SQLite and, in CI, PostgreSQL.
A refused action must raise a FocusqaError and leave the database exactly as it was.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from focusqa.cli import main as cli
from focusqa.config import MACHINE_CODER
from focusqa.errors import FocusqaError
from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.store.db import make_engine
from focusqa.store.models import CoderRow
from focusqa.types import CodeSuggestion

EARLY, COORD = "tidlig-indsats", "tvaerfaglig-koordinering"
TEXT = """Moderator: Hvordan går det?

Rådgiver 1: Vi taler med forældrene før der er en sag.

Rådgiver 2: Jeg koordinerer med PPR.
"""


@pytest.fixture
def team(store: Store):
    """A closed project: Anne and Bo are coders with passwords, Lise a reviewer; Anne has coded."""
    _status, doc_id = store.import_document(parse_text(TEXT, "g.txt"))
    seg = [s.id for s in store.segments(doc_id)]
    store.add_coder("Anne", password="anne-hemmelig")
    store.add_coder("Bo", password="bo-hemmelig")
    store.add_coder("Lise", role="reviewer", password="lise-hemmelig")
    store.set_coding(seg[1], EARLY, "Anne")
    return store, seg


def _snapshot(store: Store) -> tuple:
    return ([(c.segment_id, c.code_id, c.coder, c.status, c.version) for c in store.codings()],
            [(m.id, m.author, m.text, m.version) for m in store.memos()],
            len(store.audit_log(limit=10_000)))


def test_a_coder_cannot_remove_or_undo_another_coders_coding(team) -> None:
    store, seg = team
    anne = store.codings(coder="Anne")[0]
    before = _snapshot(store)
    with pytest.raises(FocusqaError, match="belongs to Anne; only Anne or a reviewer"):
        store.remove_coding(anne.id, "Bo", expected_version=anne.version)
    with pytest.raises(FocusqaError, match="belongs to Anne"):
        store.undo_last("Bo", of="Anne")
    assert store.undo_last("Bo") is None, "Bo has nothing of his own to undo"
    assert _snapshot(store) == before, "a refused action changes nothing"


def test_a_reviewer_can_remove_and_undo_another_coders_work(team) -> None:
    store, seg = team
    store.set_coding(seg[2], COORD, "Anne")
    undone = store.undo_last("Lise", of="Anne")
    assert (undone.actor, undone.action, undone.after["code_id"]) == ("Anne", "code", COORD)
    assert [(c.segment_id, c.code_id) for c in store.codings(coder="Anne")] == [(seg[1], EARLY)]
    anne = store.codings(coder="Anne")[0]
    store.remove_coding(anne.id, "Lise", expected_version=anne.version)
    assert store.codings(coder="Anne") == []
    log = store.audit_log(limit=2)
    assert [(e.actor, e.action) for e in log] == [("Lise", "uncode"), ("Lise", "undo")]
    # the removal is Lise's own action, so her undo brings Anne's coding back
    store.undo_last("Lise")
    assert [(c.segment_id, c.code_id) for c in store.codings(coder="Anne")] == [(seg[1], EARLY)]


def test_memos_are_changed_only_by_their_author_or_a_reviewer(team) -> None:
    store, seg = team
    memo = store.add_memo("Anne", "Forældrene henvender sig selv.", segment_id=seg[1])
    before = _snapshot(store)
    with pytest.raises(FocusqaError, match="memo belongs to Anne"):
        store.update_memo(memo.id, "Bo skriver om", "Bo", expected_version=memo.version)
    with pytest.raises(FocusqaError, match="memo belongs to Anne"):
        store.delete_memo(memo.id, "Bo")
    assert _snapshot(store) == before
    store.update_memo(memo.id, "Rettet af reviewer", "Lise", expected_version=memo.version)
    assert store.memos()[0].text == "Rettet af reviewer"
    assert store.audit_log(limit=1)[0].actor == "Lise"


def test_any_coder_may_review_the_machines_suggestions(team) -> None:
    store, seg = team
    store.replace_suggestions({seg[2]: [CodeSuggestion(COORD, 3, "Koordinering", 0.7, {})]})
    machine = store.codings(coder=MACHINE_CODER)[0]
    store.review(seg[2], COORD, "Bo", "accepted", expected_version=machine.version)
    assert [(c.code_id, c.status) for c in store.codings(coder="Bo")] == [(COORD, "accepted")]
    assert store.codings(coder=MACHINE_CODER)[0].status == "accepted"


def test_in_a_closed_project_an_unlisted_name_writes_nothing(team) -> None:
    store, seg = team
    before = _snapshot(store)
    with pytest.raises(FocusqaError, match="'Mallory' is not a coder in this project"):
        store.set_coding(seg[2], COORD, "Mallory")
    with pytest.raises(FocusqaError, match="not a coder"):
        store.add_memo("Mallory", "hej", segment_id=seg[2])
    with pytest.raises(FocusqaError, match="added by the team lead"):
        store.enroll("Mallory")
    assert _snapshot(store) == before
    assert "Mallory" not in [c.name for c in store.project_coders()]


def test_the_audit_actor_is_the_signed_in_coder(team) -> None:
    store, seg = team
    signed_in = store.authenticate("Bo", "bo-hemmelig")
    store.set_coding(seg[2], COORD, signed_in.name)
    entry = store.audit_log(limit=1)[0]
    assert (entry.actor, entry.action, entry.after["coder"]) == ("Bo", "code", "Bo")


def test_a_wrong_password_is_refused(team) -> None:
    store, _seg = team
    with pytest.raises(FocusqaError, match="wrong password for Anne"):
        store.authenticate("Anne", "bo-hemmelig")
    with pytest.raises(FocusqaError, match="wrong password"):
        store.authenticate("Anne", "")
    with pytest.raises(FocusqaError, match="not a coder"):
        store.authenticate("Mallory", "x")
    assert store.authenticate("Anne", "anne-hemmelig").name == "Anne"


def test_passwords_are_never_stored_in_clear(team, any_db_url: str) -> None:
    store, _seg = team
    store.set_coder_password("Bo", "nyt-kodeord-42")
    engine = make_engine(any_db_url)
    with engine.connect() as conn:
        stored = {r.name: r.password_hash for r in conn.execute(select(CoderRow))}
        dump = repr(conn.exec_driver_sql("SELECT * FROM coders").all()) + repr(
            conn.exec_driver_sql("SELECT * FROM audit_log").all())
    engine.dispose()
    assert stored["Lise"].startswith("scrypt$") and stored["Bo"].startswith("scrypt$")
    for secret in ("anne-hemmelig", "bo-hemmelig", "lise-hemmelig", "nyt-kodeord-42"):
        assert secret not in dump
    store.add_coder("Carl", password="samme")
    store.add_coder("Dina", password="samme")
    with make_engine(any_db_url).connect() as conn:
        carl, dina = (conn.execute(select(CoderRow.password_hash).where(CoderRow.name == n)).scalar()
                      for n in ("Carl", "Dina"))
    assert carl != dina, "each password has its own salt"
    assert store.authenticate("Bo", "nyt-kodeord-42").has_password


def test_an_open_project_lets_a_single_evaluator_start_at_once(store: Store) -> None:
    _status, doc_id = store.import_document(parse_text(TEXT, "g.txt"))
    seg = [s.id for s in store.segments(doc_id)]
    me = store.enroll("Anne")
    assert (me.name, me.role, me.has_password) == ("Anne", "reviewer", False), "the first coder leads"
    assert store.enroll("Bo").role == "coder"
    store.set_coding(seg[1], EARLY, "Anne")
    assert store.authenticate("Anne").name == "Anne", "no password needed"
    with pytest.raises(FocusqaError, match="already a coder"):
        store.enroll("Anne")


def test_existing_coders_join_the_list_when_the_database_is_upgraded(tmp_path) -> None:
    """A database from before migration 0008 keeps its coders (the demo's evaluator_a and _b)."""
    from alembic import command

    from focusqa.store.db import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store(url)
    _status, doc_id = store.import_document(parse_text(TEXT, "g.txt"))
    seg = [s.id for s in store.segments(doc_id)]
    store.set_coding(seg[1], EARLY, "evaluator_a")
    store.add_memo("evaluator_b", "et memo", segment_id=seg[1])
    store.replace_suggestions({seg[2]: [CodeSuggestion(COORD, 3, "Koordinering", 0.7, {})]})
    engine = store.engine
    cfg = alembic_config(engine)
    with engine.connect() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0007")
        connection.commit()
    store.dispose()
    upgraded = Store(url)
    assert [(c.name, c.role, c.has_password) for c in upgraded.project_coders()] == [
        ("evaluator_a", "coder", False), ("evaluator_b", "coder", False)]
    upgraded.dispose()


def test_reference_import_lists_its_coders(store: Store, tmp_path) -> None:
    import json

    _status, doc_id = store.import_document(parse_text(TEXT, "g.txt"))
    seg = store.segments(doc_id)[1]
    ref = tmp_path / "ref.jsonl"
    ref.write_text(json.dumps({"document": "g.txt", "segment": seg.index, "start": seg.start, "end": seg.end,
                               "coder": "evaluator_a", "codes": [EARLY]}) + "\n", encoding="utf-8")
    store.import_reference(ref)
    assert [c.name for c in store.project_coders()] == ["evaluator_a"]


def test_coders_command_manages_the_list(tmp_path, capsys, monkeypatch) -> None:
    db = str(tmp_path / "cli.db")
    assert cli(["coders", "add", "Anne", "--role", "reviewer", "--db", db]) == 0
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "bo-hemmelig")
    assert cli(["coders", "add", "Bo", "--password", "--db", db]) == 0
    assert cli(["coders", "role", "Bo", "reviewer", "--db", db]) == 0
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "anne-ny")
    assert cli(["coders", "passwd", "Anne", "--db", db]) == 0
    capsys.readouterr()
    assert cli(["coders", "list", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "Anne" in out and "Bo" in out and "reviewer" in out and "hemmelig" not in out
    store = Store(db)
    assert store.authenticate("Anne", "anne-ny").role == "reviewer"
    assert store.authenticate("Bo", "bo-hemmelig").role == "reviewer"
    store.dispose()
    assert cli(["coders", "role", "Nobody", "coder", "--db", db]) == 2
    assert "not a coder" in capsys.readouterr().err
