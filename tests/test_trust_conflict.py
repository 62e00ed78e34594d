"""No lost work: two coders (two Store instances, like two app sessions) on one database."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event

from focusqa.config import MACHINE_CODER
from focusqa.errors import ConflictError
from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.types import CodeSuggestion

TEXT = "I: Hvordan går samarbejdet?\nAnna: Vi mødes hver uge med skolen.\nI: Og familierne?\nBo: De er med fra start."


@pytest.fixture
def two_coders(any_db_url):
    first = Store(any_db_url)
    second = Store(any_db_url)
    _, doc = first.import_document(parse_text(TEXT, "samarbejde.txt"), actor="test")
    seg = [s for s in first.segments(doc) if s.role == "participant"][0]
    code = first.codebook().ids[0]
    first.replace_suggestions({seg.id: [CodeSuggestion(code, 1, "x", 0.8, {"terms": ["skolen"]})]})
    yield first, second, seg.id, code
    first.dispose()
    second.dispose()


def _suggestion(store: Store, seg: int, code: str):
    return next(c for c in store.codings(segment_ids=[seg]) if c.coder == MACHINE_CODER and c.code_id == code)


def test_second_reviewer_of_the_same_suggestion_gets_a_conflict_and_the_current_state(two_coders) -> None:
    anna, bo, seg, code = two_coders
    seen_by_anna = _suggestion(anna, seg, code)
    seen_by_bo = _suggestion(bo, seg, code)
    assert seen_by_anna.version == seen_by_bo.version

    anna.review(seg, code, "anna", "accepted", expected_version=seen_by_anna.version)
    with pytest.raises(ConflictError, match="current state"):
        bo.review(seg, code, "bo", "rejected", expected_version=seen_by_bo.version)

    now = {(c.coder, c.status) for c in bo.codings(segment_ids=[seg])}
    assert now == {(MACHINE_CODER, "accepted"), ("anna", "accepted")}, "Bo sees Anna's decision, his is not saved"
    # with the fresh version, Bo's decision is saved (nothing silently overwritten before that)
    fresh = _suggestion(bo, seg, code)
    bo.review(seg, code, "bo", "rejected", expected_version=fresh.version)
    assert ("bo", "rejected") in {(c.coder, c.status) for c in anna.codings(segment_ids=[seg])}


def test_one_coding_edited_in_two_sessions_keeps_the_first_save(two_coders) -> None:
    tab1, tab2, seg, code = two_coders
    mine = tab1.set_coding(seg, code, "anna")
    stale = tab2.codings(segment_ids=[seg], coder="anna")[0]
    tab1.set_coding(seg, code, "anna", "rejected", expected_version=mine.version)
    with pytest.raises(ConflictError):
        tab2.set_coding(seg, code, "anna", "accepted", expected_version=stale.version)
    assert tab2.codings(segment_ids=[seg], coder="anna")[0].status == "rejected"
    with pytest.raises(ConflictError):
        tab2.remove_coding(stale.id, "anna", expected_version=stale.version)
    assert len(tab1.codings(segment_ids=[seg], coder="anna")) == 1


def _release_together(store: Store, barrier: threading.Barrier, table_prefix: str) -> None:
    """Hold each session just before its write until all have read: the worst-case race."""

    @event.listens_for(store.engine, "before_cursor_execute")
    def _wait(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith(table_prefix):
            try:
                barrier.wait(timeout=10)
            except threading.BrokenBarrierError:
                pass


def test_simultaneous_reviews_one_wins_the_others_get_conflicts(any_db_url) -> None:
    base = Store(any_db_url)
    _, doc = base.import_document(parse_text(TEXT, "samtidig.txt"), actor="test")
    seg = [s for s in base.segments(doc) if s.role == "participant"][1].id
    code = base.codebook().ids[1]
    base.replace_suggestions({seg: [CodeSuggestion(code, 2, "x", 0.6, {})]})
    version = _suggestion(base, seg, code).version
    names = ["anna", "bo", "cecilie"]
    barrier = threading.Barrier(len(names))
    sessions = [Store(any_db_url) for _ in names]
    for s in sessions:
        _release_together(s, barrier, "UPDATE CODINGS")
    outcome: dict[str, str] = {}

    def decide(store: Store, name: str, decision: str) -> None:
        try:
            store.review(seg, code, name, decision, expected_version=version)
            outcome[name] = "saved"
        except ConflictError:
            outcome[name] = "conflict"

    threads = [threading.Thread(target=decide, args=(s, n, d))
               for s, n, d in zip(sessions, names, ["accepted", "rejected", "accepted"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcome.values()) == ["conflict", "conflict", "saved"]
    winner = next(n for n, o in outcome.items() if o == "saved")
    human = [c for c in base.codings(segment_ids=[seg]) if c.origin == "human"]
    assert [c.coder for c in human] == [winner], "only the winner's decision is stored"
    reviews = [e for e in base.audit_log(entity="coding") if e.action == "review"]
    assert [e.actor for e in reviews] == [winner]
    for s in sessions:
        s.dispose()
    base.dispose()
